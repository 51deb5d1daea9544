package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCatalogueCoversEveryReason reads the program's source: every error made with a sentence
// (Errorf, Invalid, ErrorOn, Refuse, because) uses one the catalogue lists, so every refusal has
// its code and its Russian text.
func TestCatalogueCoversEveryReason(t *testing.T) {
	formatArg := map[string]int{"Errorf": 1, "Invalid": 1, "ErrorOn": 2, "Refuse": 1, "because": 1}
	fset := token.NewFileSet()
	seen := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok && x.Name == "domain" {
					name = fn.Sel.Name
				}
			}
			i, ok := formatArg[name]
			if !ok || len(call.Args) <= i {
				return true
			}
			if name == "Errorf" && f.Name.Name != "domain" && !isDomainSelector(call.Fun) {
				return true // fmt.Errorf
			}
			if id, ok := call.Args[i].(*ast.Ident); ok && id.Name == "format" {
				return true // a constructor passing its caller's sentence on
			}
			lit, ok := call.Args[i].(*ast.BasicLit)
			if !ok {
				t.Errorf("%s: %s with a sentence that is not a literal: the catalogue cannot list it", fset.Position(call.Pos()), name)
				return true
			}
			format, _ := strconv.Unquote(lit.Value)
			seen++
			if _, ok := catalogue[format]; !ok {
				t.Errorf("%s: %q is not in the catalogue", fset.Position(call.Pos()), format)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("found only %d sentences: the walk missed the source", seen)
	}
}

func isDomainSelector(e ast.Expr) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := s.X.(*ast.Ident)
	return ok && x.Name == "domain"
}

// latinWord is a word in Latin letters; the Russian texts may hold only these: the names of
// settings an operator sets, channel names, the case number's prefix.
var (
	latinWord    = regexp.MustCompile(`[A-Za-z][A-Za-z_]*`)
	allowedLatin = map[string]bool{"SMS": true, "KC": true, "DOCUMENT_VALIDITY_MONTHS": true, "SMS_QUIET_HOURS": true,
		"JSON": true, "http": true, "https": true}
	codeShape = regexp.MustCompile(`^[a-z][a-z_]*[a-z]$`)
	verbs     = regexp.MustCompile(`%(\[\d+\])?[0-9]*[a-zA-Z]|\{field\}`)
)

// TestCatalogueTexts: every code is a snake_case word and every text is Russian.
func TestCatalogueTexts(t *testing.T) {
	for en, tx := range catalogue {
		if !codeShape.MatchString(tx.code) {
			t.Errorf("%q: code %q", en, tx.code)
		}
		for _, w := range latinWord.FindAllString(verbs.ReplaceAllString(tx.ru, ""), -1) {
			if !allowedLatin[w] {
				t.Errorf("%q: the Russian text %q holds %q", en, tx.ru, w)
			}
		}
	}
	for _, st := range DocStatuses {
		for _, d := range DocTypes {
			if w := latinWord.FindString(DocStatusWord(d.Type, st)); w != "" {
				t.Errorf("%s %s: %q", d.Type, st, DocStatusWord(d.Type, st))
			}
		}
	}
	// A reason names its field in Russian, whatever index the field carries.
	r := because("contacts[1].phone", "is not a phone number")
	if r.Code != "not_a_phone" || r.Message != "«Телефон»: это не номер телефона" || r.Field != "contacts[1].phone" || r.String() != "is not a phone number" {
		t.Errorf("reason %+v", r)
	}
	r = because("applicant.snils", "checksum does not match (expected %02d)", 95)
	if r.Code != "snils_checksum" || strings.Contains(r.Message, "%") || r.String() != "checksum does not match (expected 95)" {
		t.Errorf("reason %+v", r)
	}
}

// TestDocStatusWordsAgree: the words about a document agree with its name's gender.
func TestDocStatusWordsAgree(t *testing.T) {
	for _, tc := range []struct {
		doc  DocType
		st   DocStatus
		want string
	}{
		{DocPassport, DocMissing, "не представлен"},
		{DocIncomeCertificate, DocMissing, "не представлена"},
		{DocApplication, DocMissing, "не представлено"},
		{DocMedicalCard, DocRequested, "запрошена, но не получена"},
		{DocGuardianshipDecision, DocRejected, "отклонено"},
		{DocSNILS, DocReceived, "получен"},
		{DocRehabilitationProgramme, DocExpired, "срок действия истёк"},
	} {
		if got := DocStatusWord(tc.doc, tc.st); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.doc, tc.st, got, tc.want)
		}
	}
	for _, d := range DocTypes {
		if d.Gender != Masculine && d.Gender != Feminine && d.Gender != Neuter {
			t.Errorf("%s has no gender", d.Type)
		}
	}
}

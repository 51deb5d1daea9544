package jobs

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Templates renders notices from the Russian text templates in templates/*.tmpl: one file per
// happening, one {{define}} per audience and channel, named happening.audience.channel. An
// e-mail template's first line is the subject.
type Templates struct {
	t *template.Template
}

// LoadTemplates parses the embedded templates; centerPhone is the number notices give for
// questions.
func LoadTemplates(centerPhone string) (*Templates, error) {
	funcs := template.FuncMap{
		"phone": func() string { return centerPhone },
		"date":  ruDate,
		"join":  join,
	}
	t, err := template.New("notices").Funcs(funcs).ParseFS(templateFS, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("notice templates: %w", err)
	}
	return &Templates{t: t}, nil
}

// Has reports whether a template exists.
func (t *Templates) Has(name string) bool { return t.t.Lookup(name) != nil }

var blankLines = regexp.MustCompile(`\n{3,}`)

// Render runs a template on a notice's data and returns the subject (e-mail only) and the text.
func (t *Templates) Render(name string, data map[string]any) (subject, text string, err error) {
	tmpl := t.t.Lookup(name)
	if tmpl == nil {
		return "", "", fmt.Errorf("no template %s", name)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("render %s: %w", name, err)
	}
	out := strings.TrimSpace(b.String())
	if strings.Contains(out, "<no value>") {
		return "", "", fmt.Errorf("render %s: the notice's data lacks a value the template uses", name)
	}
	out = blankLines.ReplaceAllString(out, "\n\n")
	if strings.HasSuffix(name, ".email") {
		subject, body, _ := strings.Cut(out, "\n")
		return strings.TrimSpace(subject), strings.TrimSpace(body), nil
	}
	return "", out, nil
}

// ruDate writes an ISO date (2006-01-02, or an RFC 3339 instant) as 02.01.2006.
func ruDate(v any) string {
	s := fmt.Sprint(v)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Format("02.01.2006")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format("02.01.2006")
	}
	return s
}

// join writes a list as "a, b, c".
func join(v any) string {
	switch l := v.(type) {
	case []string:
		return strings.Join(l, ", ")
	case []any:
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ", ")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

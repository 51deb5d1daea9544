package carepath_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsLinksResolve: every relative link and image in README.md and docs/*.md points at a
// file inside the repository, and the README uses no macOS-only command.
func TestDocsLinksResolve(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("docs/*.md")
	files = append([]string{"README.md"}, files...)
	link := regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)|<img[^>]+src="([^"]+)"`)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1] + m[2]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.Join(filepath.Dir(f), target)
			abs, _ := filepath.Abs(p)
			if !strings.HasPrefix(abs, root+string(filepath.Separator)) {
				t.Errorf("%s links to %s, outside the repository", f, target)
				continue
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s links to %s, which does not exist", f, target)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no relative links found: the pattern is broken")
	}
	readme, _ := os.ReadFile("README.md")
	for _, mac := range []string{"brew ", "pbcopy", "pbpaste", "sed -i ''", "(macOS", "\nopen http"} {
		if strings.Contains(string(readme), mac) {
			t.Errorf("README.md uses a macOS-only command: %q", mac)
		}
	}
}

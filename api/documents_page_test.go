package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"carepath/domain"
)

// TestDocumentsPage: the public consultation asks its four questions in Russian, shows the
// documents the case rules give for the answers, fits a phone's screen, and prints without the
// form.
func TestDocumentsPage(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h)
	b.open("/documents")
	b.wait("the questions", `!!document.querySelector('#facility_type')`)
	b.set("#facility_type", "psychoneurological")
	b.set("#legal_capacity", "incapacitated")
	b.set("#disability_group", "1")
	b.click("#represented")
	b.click("#documents-form button[type=submit]")
	b.wait("the list", `document.querySelectorAll('#documents-list li').length > 0`)
	b.shot("documents", true)

	got := evalJS[[]string](b, `[...document.querySelectorAll('#documents-list li')].map(li => li.dataset.type)`)
	advice, err := domain.PreviewChecklist(domain.DefaultSettings(), domain.ChecklistQuestion{FacilityType: domain.Psychoneurological,
		LegalCapacity: domain.Incapacitated, DisabilityGroup: "1", Represented: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range advice.Documents {
		want = append(want, string(d.Type))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the page lists %v, the rules give %v", got, want)
	}
	text := b.text("#documents-result")
	for _, s := range []string{"Психоневрологический диспансер", "Действует 6 месяцев", "Решение суда о признании недееспособным", "Зачем:"} {
		if !strings.Contains(text, s) {
			t.Errorf("the answer lacks %q:\n%.800s", s, text)
		}
	}

	// On a phone nothing runs off the screen.
	b.do("phone viewport", chromedp.EmulateViewport(360, 740))
	if overflow := evalJS[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`); overflow {
		t.Error("the page is wider than a phone's screen")
	}
	// Printed, the list stays and the form goes.
	printHides := evalJS[bool](b, `[...document.styleSheets].some(s => [...s.cssRules].some(r =>
		r.media && r.media.mediaText === 'print' && [...r.cssRules].some(x => x.selectorText && x.selectorText.includes('.no-print'))))`)
	if !printHides || !evalJS[bool](b, `document.querySelector('#documents-form').classList.contains('no-print')`) {
		t.Error("printing would keep the form")
	}
}

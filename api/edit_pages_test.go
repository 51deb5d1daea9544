package api_test

import (
	"strings"
	"testing"
)

// TestConsoleEditsFactsRelativesAndCode: on the case page a specialist adds a relative (phone in
// any format, consent not ticked), withdraws a consent (its pending notices are cancelled),
// corrects the applicant's facts (the checklist follows) and issues a new access code.
func TestConsoleEditsFactsRelativesAndCode(t *testing.T) {
	h := newHarness(t)
	id, _ := h.createCase()
	b := newBrowser(t, h)
	b.login(h.token)
	serverCase := func() map[string]any {
		t.Helper()
		return h.do("GET", "/api/v1/cases/"+id, nil).json(t)
	}
	flash := func(step, text string) {
		t.Helper()
		b.wait(step, `!!document.querySelector('.flash') && document.querySelector('.flash').textContent.includes(`+jsString(text)+`)`)
	}
	b.open("/console/cases/" + id)
	b.wait("edit section", `!!document.querySelector('#edit #add-contact')`)
	evalJS[bool](b, `(window.confirm = () => true, true)`)

	// A new relative: the consent box is not ticked; the phone is kept as E.164.
	b.click("#add-contact")
	b.wait("contact form", `!!document.querySelector('#contact-form')`)
	if evalJS[bool](b, `document.querySelector('#ed-ct-consent').checked`) {
		t.Errorf("the consent to notices is pre-ticked")
	}
	b.typeIn("#ed-ct-name", "Петрова Анна Сергеевна")
	b.typeIn("#ed-ct-relation", "дочь")
	b.typeIn("#ed-ct-phone", "8 (916) 555-44-33")
	b.click("#contact-form button[type=submit]")
	flash("contact added", "Контакт добавлен")
	contacts := serverCase()["contacts"].([]any)
	last := contacts[len(contacts)-1].(map[string]any)
	if last["phone"] != "+79165554433" || last["consent_to_notices"] != false {
		t.Errorf("added contact %v", last)
	}

	// The son withdraws his consent: the notices not yet sent to him are cancelled.
	var pendingBefore int64
	h.db.Gorm.Raw("SELECT count(*) FROM notices WHERE case_id = ? AND audience IN ('relative', 'representative') AND status = 'pending'", id).Scan(&pendingBefore)
	b.click(`li.contact-row[data-index="0"] button`)
	b.wait("contact form for the son", `!!document.querySelector('#contact-form') && document.querySelector('#ed-ct-consent').checked`)
	b.click("#ed-ct-consent")
	b.click("#contact-form button[type=submit]")
	flash("consent withdrawn", "Контакт изменён")
	son := serverCase()["contacts"].([]any)[0].(map[string]any)
	if son["consent_to_notices"] != false || son["consent_withdrawn_on"] == nil {
		t.Errorf("son after the withdrawal %v", son)
	}
	var cancelled int64
	h.db.Gorm.Raw("SELECT count(*) FROM notices WHERE case_id = ? AND status = 'cancelled'", id).Scan(&cancelled)
	if pendingBefore > 0 && cancelled == 0 {
		t.Errorf("%d pending notices to the relatives, none cancelled", pendingBefore)
	}
	if !strings.Contains(b.text("#contacts-editor"), "согласие отозвано") {
		t.Errorf("the page does not say the consent was withdrawn: %q", b.text("#contacts-editor"))
	}

	// The facts: a disability group asks for its documents.
	b.click("#facts-details summary")
	b.set("#ed-disability", "2")
	b.click("#facts-form button[type=submit]")
	flash("facts", "Сведения о заявителе исправлены")
	found := false
	for _, d := range serverCase()["checklist"].([]any) {
		if m := d.(map[string]any); m["type"] == "disability_certificate" && m["required"] == true {
			found = true
		}
	}
	if !found {
		t.Errorf("the checklist does not ask for the disability certificate after the change")
	}
	b.wait("history line", `!!document.querySelector('.timeline li[data-event="edit_facts"]')`)

	// A new access code, shown once.
	b.click("#rotate-access-code")
	b.wait("new code", `!!document.querySelector('#new-access-code')`)
	if code := b.text("#new-access-code"); len(code) != 12 {
		t.Errorf("new access code %q", code)
	}
	// The case's version moved with the code: a change after it still goes through.
	b.click("#add-contact")
	b.typeIn("#ed-ct-name", "Сидоров Пётр")
	b.typeIn("#ed-ct-relation", "племянник")
	b.typeIn("#ed-ct-phone", "+7 903 111 22 33")
	b.click("#contact-form button[type=submit]")
	flash("contact after the new code", "Контакт добавлен")
}

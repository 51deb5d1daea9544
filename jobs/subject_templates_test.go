package jobs

import (
	"strings"
	"testing"
	"time"

	"carepath/domain"
)

// TestSubjectRemindersRender: the reminders of deadlines without a case (a call-back promised to
// a caller with no case, an untouched lead) render from the planner's own data: they name the
// subject and its person, never a case number, and miss no value.
func TestSubjectRemindersRender(t *testing.T) {
	tm, err := LoadTemplates("+7 (495) 123-45-67")
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2030, 3, 4, 10, 0, 0, 0, domain.Moscow)
	followUp := domain.ContactFollowUpDeadline("0b5d7d8e-3c1a-4f7e-9a57-2c1f0e6b9d10", domain.DateOf(opened).AddDays(2), opened)
	followUp.ID, followUp.Owner = 7, "specialist-1"
	lead := domain.LeadTriageDeadline("1c6e8e9f-4d2b-4a8f-8b68-3d2f1f7cae21", opened, 5)
	lead.ID = 8
	cases := []struct {
		r     domain.DueReminder
		at    time.Time
		words []string
	}{
		{domain.DueReminder{Deadline: followUp, Sent: 0, Subject: &domain.Subject{Kind: domain.SubjectContact, ID: followUp.Ref, Name: "Орлова Нина"}},
			followUp.DueAt.Add(-20 * time.Hour), []string{"Обращение без дела: Орлова Нина", "обратный звонок"}},
		{domain.DueReminder{Deadline: followUp, Sent: 1, Subject: &domain.Subject{Kind: domain.SubjectContact, ID: followUp.Ref}},
			followUp.DueAt.Add(time.Hour), []string{"Срок пропущен: обращение без дела", "Обращение без дела."}},
		{domain.DueReminder{Deadline: lead, Sent: 0, Subject: &domain.Subject{Kind: domain.SubjectLead, ID: lead.Ref, Name: "Смирнова Анна"}},
			lead.DueAt, []string{"Срок пропущен: выявленный случай", "Выявленный случай: Смирнова Анна", "разбор выявленного случая"}},
	}
	for _, c := range cases {
		out := domain.PlanReminder(domain.DefaultSettings(), c.r, []string{"supervisor-1"}, c.at)
		if len(out.Notices) == 0 {
			t.Fatalf("%s stage %d: no notices", c.r.Deadline.Kind, c.r.Sent)
		}
		for _, n := range out.Notices {
			if n.CaseID != "" || n.SubjectKind != c.r.Subject.Kind || n.SubjectID != c.r.Subject.ID {
				t.Errorf("%s: notice about %q/%q/%q", n.Template, n.CaseID, n.SubjectKind, n.SubjectID)
			}
			if c.r.Deadline.Kind == domain.DeadlineLeadTriage && n.Audience != domain.AudienceSupervisor {
				t.Errorf("a lead has no specialist; %s goes to %s", n.Template, n.Audience)
			}
			subject, text, err := tm.Render(n.Template, n.Data)
			if err != nil {
				t.Fatalf("%s: %v", n.Template, err)
			}
			all := subject + "\n" + text
			if strings.Contains(all, "дело ") && !strings.Contains(all, "без дела") || strings.Contains(all, "Дело ") {
				t.Errorf("%s names a case:\n%s", n.Template, all)
			}
			for _, w := range c.words {
				if !strings.Contains(all, w) {
					t.Errorf("%s lacks %q:\n%s", n.Template, w, all)
				}
			}
		}
	}
}

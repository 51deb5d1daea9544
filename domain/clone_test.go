package domain

import (
	"reflect"
	"testing"
	"time"
)

// TestCloneCaseSharesNothing: every pointer and slice reachable from a copy made by Clone
// is its own, so a command deciding on the copy cannot change the cached case. The fixture sets
// every pointer and fills every slice; a field added to Case later fails here until
// both are taught about it.
func TestCloneCaseSharesNothing(t *testing.T) {
	d := NewDate(2025, 1, 2)
	closed := time.Now()
	c := &Case{ID: "x", Contacts: []Contact{{Name: "a"}}, VoucherValidUntil: &d, LeaveReturnBy: &d,
		IPPSU:   &IPPSU{Number: "1", Date: d},
		Appeals: []AppealRecord{{Grounds: "g", FiledOn: d, DecidedOn: &d}}, Contract: &Contract{Number: "1", SignedOn: d},
		Checklist: Checklist{{Type: DocPassport, IssuedOn: &d, ValidUntil: &d}},
		Deadlines: []Deadline{{ID: 1, ClosedAt: &closed}}}
	var problems []string
	var walk func(path string, a, b reflect.Value)
	walk = func(path string, a, b reflect.Value) {
		switch a.Kind() {
		case reflect.Pointer:
			if a.IsNil() {
				problems = append(problems, path+" is nil in the fixture")
				return
			}
			if a.Pointer() == b.Pointer() {
				problems = append(problems, path+" is shared")
			}
			walk(path+"*", a.Elem(), b.Elem())
		case reflect.Slice, reflect.Map:
			if a.Len() == 0 {
				problems = append(problems, path+" is empty in the fixture")
				return
			}
			if a.Pointer() == b.Pointer() {
				problems = append(problems, path+" is shared")
			}
			if a.Kind() == reflect.Slice {
				for i := 0; i < a.Len(); i++ {
					walk(path+"[i]", a.Index(i), b.Index(i))
				}
			}
		case reflect.Struct:
			if a.Type().PkgPath() == "time" { // a zone is shared by design
				return
			}
			for i := 0; i < a.NumField(); i++ {
				walk(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	}
	walk("Case", reflect.ValueOf(c).Elem(), reflect.ValueOf(c.Clone()).Elem())
	for _, p := range problems {
		t.Error(p)
	}
}

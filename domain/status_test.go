package domain

import (
	"regexp"
	"testing"
)

// TestValidCaseNumber: the hand check is the pattern ^KC-[0-9]{4}-[0-9]{6}$.
func TestValidCaseNumber(t *testing.T) {
	re := regexp.MustCompile(`^KC-[0-9]{4}-[0-9]{6}$`)
	for _, s := range []string{"KC-2025-000123", "KC-2025-00012", "KC-2025-0001234", "kc-2025-000123", "KC-2025_000123",
		"KC-20A5-000123", "KC-2025-00012X", "XC-2025-000123", "KC-2025-000123\n", "", "KC--025-000123", "KC-2025--00123", "KC-٢٠٢٥-000123"} {
		if got, want := ValidCaseNumber(s), re.MatchString(s); got != want {
			t.Errorf("%q: %v, the pattern says %v", s, got, want)
		}
	}
}

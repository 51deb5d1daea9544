package api_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"slices"
	"testing"

	"carepath/domain"
	"carepath/store"
)

// TestReindexPhones: a rotation of PHONE_INDEX_KEY. With the new key first and the old one
// second, `carepath phones reindex` (Cases.ReindexPhones) moves every case's and every logged
// contact's blind index entry to the new key and removes the old entries; a second pass changes
// nothing; with the old key dropped, the case and the contact are still found by phone.
func TestReindexPhones(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	h.token = h.tokens[domain.RoleSpecialist]
	caseID, _ := h.createCase() // the son's phone +7 903 000-00-01
	contact := h.logContact(map[string]any{"channel": "phone", "direction": "inbound", "party": "other", "topic": "other",
		"caller_phone": "8 916 555-00-11"})

	oldKey := []byte("phone index key for the api tests!")
	newKey := []byte("the new phone index key, rotated!!")
	mac := func(key []byte, e164 string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(e164))
		return m.Sum(nil)
	}
	rotated, err := store.NewPhoneIndex([][]byte{newKey, oldKey})
	if err != nil {
		t.Fatal(err)
	}
	h.cases.Phones = rotated
	res, err := h.cases.ReindexPhones(ctx, 1) // batches of one: the paging is exercised
	if err != nil {
		t.Fatal(err)
	}
	if res.Cases != 1 || res.CaseKeysAdded < 1 || res.CaseKeysRemoved != res.CaseKeysAdded || res.Contacts != 1 || res.ContactKeysChanged != 1 {
		t.Fatalf("first pass: %+v", res)
	}
	if again, err := h.cases.ReindexPhones(ctx, 100); err != nil || again.Changed() || again.Cases != 1 {
		t.Fatalf("a second pass changes nothing: %+v %v", again, err)
	}

	var keys [][]byte
	h.db.Gorm.Raw("SELECT key FROM case_phone_keys WHERE case_id = ?", caseID).Scan(&keys)
	if !slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, mac(newKey, "+79030000001")) }) ||
		slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, mac(oldKey, "+79030000001")) }) {
		t.Fatalf("the case's entries are not all under the new key")
	}
	var ck []byte
	if err := h.db.SQL.QueryRowContext(ctx, "SELECT phone_key FROM contacts WHERE id = $1", contact["id"]).Scan(&ck); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ck, mac(newKey, "+79165550011")) {
		t.Fatalf("the contact's entry is not under the new key: %x", ck)
	}

	// The old key dropped: both are found with the new key alone.
	only, _ := store.NewPhoneIndex([][]byte{newKey})
	ids, err := store.NewPhoneBook(h.db, only).CasesByPhone(ctx, "+79030000001", 10)
	if err != nil || !slices.Contains(ids, caseID) {
		t.Fatalf("the case by phone after the rotation: %v %v", ids, err)
	}
	page, err := store.NewContacts(h.db, h.sealer, only).Find(ctx, domain.ContactFilter{Phone: "+79165550011", Limit: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != contact["id"] {
		t.Fatalf("the contact by phone after the rotation: %+v %v", page, err)
	}
}

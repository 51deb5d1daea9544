package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// PhoneIndex is the keyed blind index of phone numbers: HMAC-SHA256 of the E.164 number
// (domain.ParsePhone) under a key of its own (PHONE_INDEX_KEY), so that a phone can be found
// without being stored in plain text, and without the database alone telling which number a
// row holds (a plain hash of a phone number is reversed by trying every number). The first key
// indexes; every key is searched, so a rotation keeps search working while `carepath
// phones reindex` recomputes the index under the new key.
type PhoneIndex struct {
	keys [][]byte
}

// ParsePhoneIndexKeys reads PHONE_INDEX_KEY: one or more base64 keys of at least 32 bytes,
// separated by commas, the first one current.
func ParsePhoneIndexKeys(s string) ([][]byte, error) {
	return parseKeyList(s, "PHONE_INDEX_KEY", "of at least 32 bytes", func(k []byte) bool { return len(k) >= 32 })
}

// parseKeyList reads a variable holding comma-separated base64 keys, the first one current; ok
// says whether a key has a usable length (what is described).
func parseKeyList(s, variable, what string, ok func([]byte) bool) ([][]byte, error) {
	var out [][]byte
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(part)
		if err != nil || !ok(k) {
			return nil, fmt.Errorf("%s must be comma-separated base64 keys %s (openssl rand -base64 32)", variable, what)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is empty", variable)
	}
	return out, nil
}

// NewPhoneIndex builds the index; keys[0] indexes new numbers.
func NewPhoneIndex(keys [][]byte) (*PhoneIndex, error) {
	if len(keys) == 0 {
		return nil, errors.New("phone index: no key")
	}
	return &PhoneIndex{keys: keys}, nil
}

func phoneMAC(key []byte, e164 string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(e164))
	return m.Sum(nil)
}

// Key is the index entry of a normalised number under the current key.
func (p *PhoneIndex) Key(e164 string) []byte { return phoneMAC(p.keys[0], e164) }

// Keys are the entries of a number under every key, for search during a rotation.
func (p *PhoneIndex) Keys(e164 string) [][]byte {
	out := make([][]byte, len(p.keys))
	for i, k := range p.keys {
		out[i] = phoneMAC(k, e164)
	}
	return out
}

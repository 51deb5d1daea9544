package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Sealer encrypts personal data at rest with AES-256-GCM. Each sealed value starts with the
// 4-byte id of its key, so values sealed with an older key stay readable while a rotation is
// under way: the first key seals, every key opens.
type Sealer struct {
	current [4]byte
	keys    map[[4]byte]cipher.AEAD
}

// ParseKeys reads DATA_KEY: one or more base64 32-byte keys separated by commas, the first one
// current.
func ParseKeys(s string) ([][]byte, error) {
	return parseKeyList(s, "DATA_KEY", "of 32 bytes", func(k []byte) bool { return len(k) == 32 })
}

// NewSealer builds a sealer; keys[0] seals.
func NewSealer(keys [][]byte) (*Sealer, error) {
	s := &Sealer{keys: map[[4]byte]cipher.AEAD{}}
	for i, k := range keys {
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := keyID(k)
		s.keys[id] = aead
		if i == 0 {
			s.current = id
		}
	}
	return s, nil
}

func keyID(k []byte) [4]byte {
	sum := sha256.Sum256(k)
	return [4]byte(sum[:4])
}

// Seal encrypts plain.
func (s *Sealer) Seal(plain []byte) []byte {
	aead := s.keys[s.current]
	out := make([]byte, 4, 4+aead.NonceSize()+len(plain)+aead.Overhead())
	copy(out, s.current[:])
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plain, s.current[:])
}

// Open decrypts a sealed value.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	if len(sealed) < 4 {
		return nil, errors.New("sealed value too short")
	}
	id := [4]byte(sealed[:4])
	aead, ok := s.keys[id]
	if !ok {
		return nil, fmt.Errorf("sealed with unknown key %x: add it to DATA_KEY", id)
	}
	rest := sealed[4:]
	if len(rest) < aead.NonceSize() {
		return nil, errors.New("sealed value too short")
	}
	return aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], id[:])
}

// Current reports whether a value is sealed with the current key (for re-keying).
func (s *Sealer) Current(sealed []byte) bool {
	return len(sealed) >= 4 && [4]byte(sealed[:4]) == s.current
}

// KeyID is the id of the current key, the first four bytes of every value it seals.
func (s *Sealer) KeyID() []byte { return s.current[:] }

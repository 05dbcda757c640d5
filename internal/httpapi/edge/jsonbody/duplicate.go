package jsonbody

import (
	"bytes"
	"encoding/json"
	"strings"
)

// duplicateKey returns the dotted path of the first key that appears
// twice in one object of raw, which must be valid JSON (encoding/json
// keeps the last of two and says nothing), or "" when there is none. It
// walks the bytes once without building values: the checkout's pay body
// goes through it on every attempt.
func duplicateKey(raw []byte) string {
	var path [8][]byte // deep enough for every body the API takes
	s := dupScanner{b: raw, path: path[:0]}
	return s.value()
}

// dupScanner walks valid JSON; path holds the keys leading to the object
// being read, for the answer.
type dupScanner struct {
	b    []byte
	i    int
	path [][]byte
}

func (s *dupScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// value reads one value at s.i and returns the path of a repeated key in
// it, or "".
func (s *dupScanner) value() string {
	s.ws()
	switch s.b[s.i] {
	case '{':
		return s.object()
	case '[':
		s.i++
		for {
			s.ws()
			if s.b[s.i] == ']' {
				s.i++
				return ""
			}
			if d := s.value(); d != "" {
				return d
			}
			s.ws()
			s.i++ // ',' or ']'
			if s.b[s.i-1] == ']' {
				return ""
			}
		}
	case '"':
		s.str()
	default: // number, true, false, null
		for s.i < len(s.b) && !endsLiteral(s.b[s.i]) {
			s.i++
		}
	}
	return ""
}

// endsLiteral reports whether c ends a number, true, false or null.
func endsLiteral(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// object reads the object at s.i and returns the path of a repeated key
// in it, or "".
func (s *dupScanner) object() string {
	s.i++ // '{'
	var buf [16][]byte
	keys := buf[:0]
	for {
		s.ws()
		if s.b[s.i] == '}' {
			s.i++
			return ""
		}
		k := s.str()
		for _, seen := range keys {
			if bytes.Equal(seen, k) {
				return s.pathTo(k)
			}
		}
		keys = append(keys, k)
		s.ws()
		s.i++ // ':'
		s.path = append(s.path, k)
		d := s.value()
		s.path = s.path[:len(s.path)-1]
		if d != "" {
			return d
		}
		s.ws()
		s.i++ // ',' or '}'
		if s.b[s.i-1] == '}' {
			return ""
		}
	}
}

// str reads the string at s.i and returns its text: the raw bytes, or
// the unescaped text when it has escapes (so "a" and "\u0061" are one key).
func (s *dupScanner) str() []byte {
	start := s.i
	s.i++
	escaped := false
	for s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			escaped = true
			s.i++
		}
		s.i++
	}
	s.i++
	if !escaped {
		return s.b[start+1 : s.i-1]
	}
	var text string
	_ = json.Unmarshal(s.b[start:s.i], &text) // valid JSON: cannot fail
	return []byte(text)
}

func (s *dupScanner) pathTo(k []byte) string {
	parts := make([]string, 0, len(s.path)+1)
	for _, p := range s.path {
		parts = append(parts, string(p))
	}
	return strings.Join(append(parts, string(k)), ".")
}

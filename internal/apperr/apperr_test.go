package apperr

import "testing"

// TestAtIndex: a bad list element is reported by its field, as API.md's
// param, with the element's index in the message; the declared error is
// left as it was.
func TestAtIndex(t *testing.T) {
	declared := &Error{Kind: Invalid, Code: "card_brands_invalid", Param: "card_brands", Message: "Unknown brand."}
	got := declared.AtIndex("card_brands", 2)
	if got.Param != "card_brands" || got.Message != "Unknown brand. (card_brands[2])" || got.Code != declared.Code {
		t.Fatalf("AtIndex = %+v", got)
	}
	if declared.Message != "Unknown brand." {
		t.Fatalf("the declared error changed: %+v", declared)
	}
}

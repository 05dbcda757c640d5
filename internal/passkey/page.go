package passkey

// Page cuts a page of the list API.md gives of keys (oldest first, as
// List returns them): up to limit, newest first, older than
// startingAfter when set (ids grow with time), and whether more follow.
// A user has a handful of passkeys, so they are paged in memory.
func Page(keys []Passkey, startingAfter string, limit int) ([]*Passkey, bool) {
	var out []*Passkey
	for i := len(keys) - 1; i >= 0; i-- {
		switch {
		case startingAfter != "" && keys[i].ID >= startingAfter:
		case len(out) == limit:
			return out, true
		default:
			out = append(out, &keys[i])
		}
	}
	return out, false
}

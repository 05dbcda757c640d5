// Package wallet is the person-to-person side of Paylink: wallet users
// (sign-up, password log-in with lock-out, cookie sessions cached in
// Redis), their balances in the shared ledger, top-ups, transfers by
// e-mail, paying payment links, history and in-app notifications.
package wallet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/lockout"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wire"
)

// Errors about users and logging in.
var (
	ErrEmailTaken         = &apperr.Error{Kind: apperr.Conflict, Code: "email_taken", Param: "email", Message: "A wallet user with this e-mail already exists."}
	ErrEmailInvalid       = &apperr.Error{Kind: apperr.Invalid, Code: "email_invalid", Param: "email", Message: "The e-mail address is not valid."}
	ErrPasswordTooShort   = &apperr.Error{Kind: apperr.Invalid, Code: "password_too_short", Param: "password", Message: "The password must be at least 10 characters."}
	ErrPasswordTooLong    = &apperr.Error{Kind: apperr.Invalid, Code: "password_too_long", Param: "password", Message: "The password must be at most 256 characters."}
	ErrNameInvalid        = &apperr.Error{Kind: apperr.Invalid, Code: "name_invalid", Message: "Names must be 1 to 100 characters without control characters (the middle name may be empty)."}
	ErrPhoneInvalid       = &apperr.Error{Kind: apperr.Invalid, Code: "phone_invalid", Param: "phone", Message: "The phone number must be in international form, e.g. +14155550123."}
	ErrInvalidCredentials = &apperr.Error{Kind: apperr.Unauthenticated, Code: "invalid_credentials", Message: "The e-mail or password is wrong."}
	ErrUserNotFound       = &apperr.Error{Kind: apperr.NotFound, Code: "user_not_found", Message: "No such wallet user."}
)

// User is a wallet user.
type User struct {
	ID         string
	Email      string
	FirstName  string
	MiddleName string
	LastName   string
	Phone      string
	CreatedAt  time.Time
}

// DisplayName is the user's full name.
func (u *User) DisplayName() string {
	parts := []string{u.FirstName}
	if u.MiddleName != "" {
		parts = append(parts, u.MiddleName)
	}
	return strings.Join(append(parts, u.LastName), " ")
}

// PasskeyOwner is u as the owner of passkeys: whoever registers a passkey
// for u or asks u to confirm with one (the wallet, the checkout's wallet
// payment) names u this way.
func (u *User) PasskeyOwner() passkey.Owner {
	return passkey.Owner{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName()}
}

// ToWire returns u as the API shows it.
func (u *User) ToWire(hasPasskey bool) wire.User {
	return wire.User{ID: u.ID, Email: u.Email, FirstName: u.FirstName, MiddleName: u.MiddleName,
		LastName: u.LastName, Phone: u.Phone, HasPasskey: hasPasskey, CreatedAt: wire.Time(u.CreatedAt)}
}

// SignUp is what a new wallet user gives.
type SignUp struct {
	Email, Password                 string
	FirstName, MiddleName, LastName string
	Phone                           string
}

// Config holds the wallet's tunables and its password hasher.
type Config struct {
	SessionTTL  time.Duration // how long a log-in lasts
	MaxFailures int           // password checks an e-mail gets per Lockout before it is locked
	Lockout     time.Duration // how long it stays locked (and the window MaxFailures counts in)
	// Passwords runs every password check; the process shares one.
	Passwords *password.Hasher
}

// Service manages wallet users, sessions and money.
type Service struct {
	db      *postgres.DB
	redis   *redis.Client
	keys    *seal.Keyring
	cfg     Config
	now     func() time.Time
	lockout *lockout.Guard
}

// NewService returns a Service storing in db, caching sessions in rdb and
// signing session tokens with keys.
func NewService(db *postgres.DB, rdb *redis.Client, keys *seal.Keyring, cfg Config, now func() time.Time) *Service {
	return &Service{db: db, redis: rdb, keys: keys, cfg: cfg, now: now,
		lockout: lockout.New(db, lockout.Config{MaxAttempts: cfg.MaxFailures, Lockout: cfg.Lockout}, now)}
}

// ValidateSignUp checks in and returns it normalised: names trimmed, e-mail
// lower-cased, phone reduced to E.164 ("+" and digits). It returns an
// *apperr.Error naming the first bad field.
func ValidateSignUp(in SignUp) (SignUp, error) {
	email, err := merchant.NormalizeEmail(in.Email)
	if err != nil {
		return in, ErrEmailInvalid
	}
	in.Email = email
	for _, f := range []struct {
		param    string
		v        *string
		optional bool
	}{{"first_name", &in.FirstName, false}, {"middle_name", &in.MiddleName, true}, {"last_name", &in.LastName, false}} {
		*f.v = strings.TrimSpace(*f.v)
		if !validName(*f.v, f.optional) {
			return in, ErrNameInvalid.WithParam(f.param)
		}
	}
	if in.Phone, err = NormalizePhone(in.Phone); err != nil {
		return in, err
	}
	return in, ValidatePassword(in.Password)
}

// ValidatePassword is the rule of every wallet password, at sign-up,
// change and reset: 10 to 256 characters (and at most 256 bytes).
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < 10 {
		return ErrPasswordTooShort
	}
	if len(pw) > 256 {
		return ErrPasswordTooLong
	}
	return nil
}

func validName(s string, optional bool) bool {
	n := utf8.RuneCountInString(s)
	if n > 100 || (n == 0 && !optional) || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// NormalizePhone accepts an international number written with an
// optional "00" or "+" prefix and spaces, dots, dashes or parentheses
// between digits, and returns it as E.164: "+" then 7 to 15 digits, the
// first not 0. It returns ErrPhoneInvalid.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "00"):
		s = s[2:]
	default:
		return "", ErrPhoneInvalid
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", ErrPhoneInvalid
		}
	}
	out := b.String()
	if digits := len(out) - 1; digits < 7 || digits > 15 || out[1] == '0' {
		return "", ErrPhoneInvalid
	}
	return out, nil
}

// CreateUser stores a new user in tx. in must come from ValidateSignUp and
// passwordHash from a password.Hasher (hash before opening tx: it is
// slow). It returns ErrEmailTaken.
func (s *Service) CreateUser(ctx context.Context, tx pgx.Tx, in SignUp, passwordHash string) (*User, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	u := &User{ID: id.NewAt("usr", now), Email: in.Email, FirstName: in.FirstName, MiddleName: in.MiddleName,
		LastName: in.LastName, Phone: in.Phone, CreatedAt: now}
	_, err := tx.Exec(ctx, insertUser, u.ID, u.Email, u.FirstName, u.MiddleName, u.LastName, u.Phone, passwordHash, u.CreatedAt)
	switch {
	case postgres.IsUniqueViolation(err, "users_email_key"):
		return nil, ErrEmailTaken
	case err != nil:
		return nil, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

// User returns the user with userID. It returns ErrUserNotFound.
func (s *Service) User(ctx context.Context, db postgres.DBTX, userID string) (*User, error) {
	return scanUser(db.QueryRow(ctx, selectUser, userID))
}

// UserByEmail returns the user with email (any case). It returns
// ErrUserNotFound.
func (s *Service) UserByEmail(ctx context.Context, db postgres.DBTX, email string) (*User, error) {
	return scanUser(db.QueryRow(ctx, selectUserByEmail, email))
}

func scanUser(row pgx.Row) (*User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.MiddleName, &u.LastName, &u.Phone, &u.CreatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrUserNotFound
	case err != nil:
		return nil, fmt.Errorf("read user: %w", err)
	}
	return &u, nil
}

// CheckPassword verifies a log-in attempt and returns the user. Every
// wrong answer is ErrInvalidCredentials, whether or not the e-mail
// exists, after the same Argon2id work. Each attempt is reserved with the
// e-mail's lock-out ("wallet:<e-mail>", package lockout) before the
// password is checked, so at most Config.MaxFailures checks run per
// Config.Lockout whatever the concurrency; past them the address is
// locked and every attempt, right or wrong, gets a *lockout.LockedError.
// A success starts the count again.
func (s *Service) CheckPassword(ctx context.Context, email, pw string) (*User, error) {
	email, err := merchant.NormalizeEmail(email)
	if err != nil {
		// No account can have this address: same work, same answer.
		if err := s.cfg.Passwords.VerifyNone(ctx, pw); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	att, err := s.lockout.Reserve(ctx, "wallet:"+email)
	if err != nil {
		return nil, err
	}
	u, ok, err := s.verify(ctx, email, pw)
	if err != nil {
		// Nothing was checked (the hasher was busy, say): the attempt must
		// not count against the user.
		if aerr := att.Abandon(context.WithoutCancel(ctx)); aerr != nil {
			return nil, errors.Join(err, aerr)
		}
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	if err := att.Succeeded(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// verify checks pw against the password of the user with email, or spends
// the same work when there is none.
func (s *Service) verify(ctx context.Context, email, pw string) (*User, bool, error) {
	var (
		u    User
		hash string
	)
	err := s.db.Pool.QueryRow(ctx, selectUserForLogin, email).Scan(&u.ID, &u.Email, &u.FirstName, &u.MiddleName,
		&u.LastName, &u.Phone, &u.CreatedAt, &hash)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, s.cfg.Passwords.VerifyNone(ctx, pw)
	case err != nil:
		return nil, false, fmt.Errorf("read user: %w", err)
	}
	ok, err := s.cfg.Passwords.Verify(ctx, pw, hash)
	if err != nil {
		return nil, false, fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	return &u, ok, nil
}

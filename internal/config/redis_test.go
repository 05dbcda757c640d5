package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRedis(t *testing.T) {
	tests := []struct {
		name, url, master string
		want              Redis
		wantErr           string
	}{
		{"one server", "redis://cache:6380/2", "", Redis{Addrs: []string{"cache:6380"}, DB: 2}, ""},
		{"default port, password", "redis://:s3cret@cache", "", Redis{Addrs: []string{"cache:6379"}, Password: "s3cret"}, ""},
		{"user and password, TLS", "rediss://app:pw@cache:6379/0", "", Redis{Addrs: []string{"cache:6379"}, Username: "app", Password: "pw", TLS: true}, ""},
		{"Sentinels", "redis://s1:26379,s2:26379,s3:26379/0", "paylink",
			Redis{Addrs: []string{"s1:26379", "s2:26379", "s3:26379"}, MasterName: "paylink"}, ""},
		{"several hosts without a master name", "redis://s1:26379,s2:26379/0", "", Redis{}, "PAYLINK_REDIS_SENTINEL_MASTER"},
		{"bad database", "redis://cache:6379/x", "", Redis{}, "database"},
		{"bad scheme", "http://cache:6379", "", Redis{}, "scheme"},
		{"query", "redis://cache:6379/0?pool_size=3", "", Redis{}, "query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRedis(tc.url, tc.master)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRedis(%q) error = %v, want one mentioning %q", tc.url, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("ParseRedis(%q) (-want +got):\n%s", tc.url, diff)
			}
		})
	}
}

func TestLoadMultiHostDatabase(t *testing.T) {
	base := map[string]string{"REDIS_URL": "redis://s1:26379,s2:26379/0", "PAYLINK_REDIS_SENTINEL_MASTER": "paylink", "PAYLINK_ENCRYPTION_KEYS": key}
	for url, ok := range map[string]bool{
		"postgres://u@h1:5432,h2:5432/paylink?target_session_attrs=read-write": true,
		"postgres://u@h1:5432,h2:5432/paylink?target_session_attrs=primary":    true,
		"postgres://u@h1:5432,h2:5432/paylink":                                 false,
		"postgres://u@h1:5432,h2:5432/paylink?target_session_attrs=any":        false,
		"postgres://u@h1:5432/paylink":                                         true,
	} {
		base["DATABASE_URL"] = url
		c, err := Load(env(base))
		if ok != (err == nil) {
			t.Errorf("Load with DATABASE_URL %s: %v", url, err)
			continue
		}
		if ok && (c.Redis.MasterName != "paylink" || len(c.Redis.Addrs) != 2) {
			t.Errorf("Redis = %+v", c.Redis)
		}
	}
}

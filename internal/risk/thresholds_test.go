package risk

import (
	"testing"
	"time"
)

func TestParseThresholds(t *testing.T) {
	t.Parallel()
	if th, err := ParseThresholds(DefaultThresholdsText); err != nil || th != DefaultThresholds {
		t.Fatalf("the defaults' text = %+v, %v; want DefaultThresholds", th, err)
	}
	th, err := ParseThresholds("card_testing=20/8/5m/2h, ip_velocity=100/1m")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultThresholds
	want.TestingFailures, want.TestingCards, want.TestingWindow, want.TestingBlock = 20, 8, 5*time.Minute, 2*time.Hour
	want.IPAttempts, want.IPWindow = 100, time.Minute
	if th != want {
		t.Fatalf("got %+v, want %+v", th, want)
	}
	for _, bad := range []string{"card_testing=10/5/10m", "ip_velocity=0/10m", "card_velocity=5/10ms", "speed=1/1h", "x"} {
		if _, err := ParseThresholds(bad); err == nil {
			t.Errorf("ParseThresholds(%q) accepted", bad)
		}
	}
}

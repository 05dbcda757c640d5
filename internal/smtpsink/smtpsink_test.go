package smtpsink

import (
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSinkReceivesWhatNetSMTPSends(t *testing.T) {
	t.Parallel()
	handle, inbox := Chan(1)
	s, err := Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := "Subject: hi\r\n\r\nline one\r\n.leading dot\r\n"
	err = smtp.SendMail("127.0.0.1:"+strconv.Itoa(s.Addr().Port), nil, "from@paylink.test",
		[]string{"a@example.test", "b@example.test"}, []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	select {
	case m = <-inbox:
	case <-time.After(time.Minute):
		t.Fatal("the sink handed over no message within a minute")
	}
	if m.From != "from@paylink.test" || strings.Join(m.To, ",") != "a@example.test,b@example.test" ||
		!strings.Contains(string(m.Data), "\n.leading dot\n") {
		t.Fatalf("got %+v %q", m, m.Data)
	}
}

func TestDirWritesOneFilePerMessage(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "mail")
	handle, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"a@example.test", "b@example.test"} {
		if err := handle(Message{From: "f@paylink.test", To: []string{to}, Data: []byte("Subject: x\n\nbody\n")}); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("files %v; want 2 .eml files", files)
	}
	b, _ := os.ReadFile(files[1])
	if !strings.Contains(string(b), "X-Sink-To: b@example.test") || !strings.HasSuffix(string(b), "body\n") {
		t.Fatalf("second file:\n%s", b)
	}
}

package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDeployExamplesOutlastTheStopBudget: the container examples of
// docs/deploy.md give serve more time between SIGTERM and SIGKILL than its
// drain may take (stopBudget): Docker's default, 10 s, would kill it while
// it still delivers the notices of commands already answered.
func TestDeployExamplesOutlastTheStopBudget(t *testing.T) {
	doc, err := os.ReadFile("docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	var runs, composes int
	for _, block := range regexp.MustCompile("(?s)```(sh|yaml)\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		switch lang, text := block[1], block[2]; lang {
		case "sh":
			for _, cmd := range strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n") {
				// A docker run of serve, the image's default command.
				if !strings.HasPrefix(cmd, "docker run") || strings.Contains(cmd, "check-config") {
					continue
				}
				runs++
				m := regexp.MustCompile(`--stop-timeout[ =](\d+)`).FindStringSubmatch(cmd)
				if m == nil {
					t.Errorf("docs/deploy.md: a docker run of serve without --stop-timeout (Docker's default is 10 s, serve's drain up to %v): %s", stopBudget, cmd)
					continue
				}
				if n, _ := strconv.Atoi(m[1]); time.Duration(n)*time.Second <= stopBudget {
					t.Errorf("docs/deploy.md: --stop-timeout %s is not more than serve's drain (%v): %s", m[1], stopBudget, cmd)
				}
			}
		case "yaml":
			if !strings.Contains(text, "image: upgradebot") {
				continue
			}
			composes++
			m := regexp.MustCompile(`(?m)^\s+stop_grace_period:\s*(\S+)`).FindStringSubmatch(text)
			if m == nil {
				t.Errorf("docs/deploy.md: the compose example sets no stop_grace_period (Docker's default is 10 s, serve's drain up to %v):\n%s", stopBudget, text)
				continue
			}
			if d, err := time.ParseDuration(m[1]); err != nil || d <= stopBudget {
				t.Errorf("docs/deploy.md: stop_grace_period %s is not more than serve's drain (%v)", m[1], stopBudget)
			}
		}
	}
	if runs == 0 || composes == 0 {
		t.Fatalf("docs/deploy.md: found %d docker run of serve and %d compose example of upgradebot; want both", runs, composes)
	}
}

// TestDockerfileRunExampleOutlastsTheStopBudget: the docker run in the
// Dockerfile's own header, the first one a reader of the image sees, gives
// serve's drain its time too.
func TestDockerfileRunExampleOutlastsTheStopBudget(t *testing.T) {
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// "# Run:   docker run ... \" and its "#          ..." continuations.
	m := regexp.MustCompile(`(?m)^# Run:\s+(docker run (?:.*\\\n#\s+)*.*)$`).FindStringSubmatch(string(df))
	if m == nil {
		t.Fatal("Dockerfile: no \"# Run:   docker run ...\" example in its header")
	}
	cmd := regexp.MustCompile(`\\\n#\s+`).ReplaceAllString(m[1], " ")
	n := regexp.MustCompile(`--stop-timeout[ =](\d+)`).FindStringSubmatch(cmd)
	if n == nil {
		t.Fatalf("Dockerfile: its docker run example has no --stop-timeout (Docker's default is 10 s, serve's drain up to %v): %s", stopBudget, cmd)
	}
	if s, _ := strconv.Atoi(n[1]); time.Duration(s)*time.Second <= stopBudget {
		t.Errorf("Dockerfile: --stop-timeout %s is not more than serve's drain (%v)", n[1], stopBudget)
	}
}

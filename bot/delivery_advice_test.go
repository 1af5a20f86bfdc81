package bot_test

import (
	"errors"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
)

type advised struct{ advice string }

func (a advised) Error() string  { return "failed" }
func (a advised) Advice() string { return a.advice }

// TestErrorAdviceFindsTheFirstThatSaysSomething: of joined errors (a
// send that failed, then the repair that failed too), the first that has
// advice speaks; one without advice does not silence the next.
func TestErrorAdviceFindsTheFirstThatSaysSomething(t *testing.T) {
	err := errors.Join(advised{""}, errors.New("plain"), advised{"give it Send Messages"})
	if got := bot.ErrorAdvice(err); got != "give it Send Messages" {
		t.Errorf("advice %q, want the second error's", got)
	}
	if got := bot.ErrorAdvice(errors.New("plain")); got != "" {
		t.Errorf("advice %q of an error without any", got)
	}
}

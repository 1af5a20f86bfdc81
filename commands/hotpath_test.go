package commands_test

import (
	"testing"

	"github.com/upgradebot/upgradebot/commands"
)

// Allocation budget of the parsing on every button press: reading a valid
// upgrade id allocates nothing (the refusal's text is built only for a bad
// one).
func TestHotPathAllocationBudgets(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		if _, err := commands.ParseID("UPG-42"); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParseID of a valid id allocates %.0f times; the budget is 0", n)
	}
}

package main

import (
	"fmt"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
	"github.com/upgradebot/upgradebot/config"
)

// windowsConfig maps what predictable windows need onto the core's
// configuration: each service's standard windows, the [[freezes]] and
// series_lead. The configuration is validated already; an error here is
// one Validate should have reported.
func windowsConfig(c config.Config, bc *bot.Config) error {
	bc.SeriesLead = c.SeriesLead
	for i, s := range c.Services {
		for j, w := range s.Windows {
			win, err := commands.ParseWindow(w, bc.DefaultLocation)
			if err != nil {
				return fmt.Errorf("services[%d].windows[%d]: %w", i, j, err)
			}
			bc.Services[i].Windows = append(bc.Services[i].Windows, win)
		}
	}
	for i, f := range c.Freezes {
		from, err := time.Parse(time.RFC3339, f.From)
		if err != nil {
			return fmt.Errorf("freezes[%d].from: %w", i, err)
		}
		to, err := time.Parse(time.RFC3339, f.To)
		if err != nil {
			return fmt.Errorf("freezes[%d].to: %w", i, err)
		}
		bc.Freezes = append(bc.Freezes, bot.Freeze{Name: f.Name, From: from.UTC(), To: to.UTC(), Services: f.Services,
			Regions: f.Regions, Reason: f.Reason, Configured: true})
	}
	return nil
}

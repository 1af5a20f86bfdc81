package bot

// RetryRootsNow runs one round of b's background root retries (what Run
// does every tick), for the tests of package bot_test.
func RetryRootsNow(b *Bot) { b.out.retryRoots() }

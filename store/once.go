package store

import (
	"context"
	"fmt"
)

// Forget drops a key First took, so the next First of it is first again:
// how an escalation that could not be sent (time ran out) is left for the
// retry of its job to send.
func (s *Store) Forget(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.onceKey(key)).Err(); err != nil {
		return fmt.Errorf("store: forget once %q: %w", key, err)
	}
	return nil
}

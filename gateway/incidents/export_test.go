package incidents

import "context"

// LookAhead reads what a reconcile pass reads ahead of its write
// transaction, for tests that measure what it holds: the number of
// pending alerts in it, and the lookahead itself to keep alive meanwhile.
func LookAhead(ctx context.Context, s *Service) (int, any) {
	a := s.lookAhead(ctx)
	n := 0
	if a != nil {
		for _, part := range a.parts {
			for _, g := range part {
				n += len(g.alerts)
			}
		}
	}
	return n, a
}

package store

// SetPlanPart makes planning select at most n subscribers per part, so that
// tests plan an event in several parts with a few subscribers.
func SetPlanPart(s *Store, n int) { s.planPart = n }

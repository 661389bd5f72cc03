package store

// draftQueries are the statements of queries/drafts.sql.
type draftQueries struct {
	OpenDrafts string `query:"open-drafts"`
}

// OpenDrafts returns the ids of the open incidents that are drafts (not
// published), inside the transaction.
func (t *Tx) OpenDrafts() (map[string]bool, error) {
	var ids []string
	if err := t.tx.SelectContext(t.ctx, &ids, t.s.q.OpenDrafts); err != nil {
		return nil, wrap("open drafts", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

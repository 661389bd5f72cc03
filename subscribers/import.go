package subscribers

import (
	"context"
	"errors"
	"io"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// importBatch is how many rows one import transaction writes: large
// enough that a 100,000-row file is a hundred transactions, small enough
// that a transaction holds SQLite's writer for milliseconds, not seconds.
const importBatch = 1000

// maxReportedErrors bounds the row errors an ImportReport lists; the count
// in Invalid is always complete.
const maxReportedErrors = 1000

// ImportOptions configure an import.
type ImportOptions struct {
	// Confirmed imports every row as confirmed, whatever its confirmed
	// column says; a row (or all) confirmed needs ConsentSource.
	Confirmed     bool
	ConsentSource string
	// Progress, when set, is called after each batch with the report so far.
	Progress func(ImportReport)
}

// ImportReport is what an import did. Rows counts the data rows read;
// each is Added, Existing (a known address, left as it is: importing twice
// adds nothing), Suppressed (on the suppression list, not imported) or
// Invalid (listed in Errors by line number, the first 1000 of them).
type ImportReport struct {
	Rows       int        `json:"rows"`
	Added      int        `json:"added"`
	Existing   int        `json:"existing"`
	Suppressed int        `json:"suppressed"`
	Invalid    int        `json:"invalid"`
	Errors     []RowError `json:"errors"`
}

func (r *ImportReport) bad(e RowError) {
	r.Rows++
	r.Invalid++
	if len(r.Errors) < maxReportedErrors {
		r.Errors = append(r.Errors, e)
	}
}

// Import reads a CSV of email subscribers (see ReadImport) as a stream and
// writes it in transactions of importBatch rows with multi-row statements.
// Unconfirmed rows become pending subscribers, each with its confirmation
// mail; confirmed ones (with a consent source) are active at once. Invalid
// rows are reported by line number and skipped; the import goes on. A
// header error (ErrHeader) or a store error stops it, keeping the batches
// already written; running it again completes it without duplicates. The
// audit log gets one entry per batch, with counts only.
func (s *Service) Import(ctx context.Context, who gateway.Principal, r io.Reader, o ImportOptions) (ImportReport, error) {
	rep := ImportReport{Errors: []RowError{}}
	// A confirmed import may take its consent source from each row's
	// consent_source column instead; rows without one are refused below.
	if err := checkConsent(false, o.ConsentSource); err != nil {
		return rep, err
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return rep, err
	}
	batch := make([]store.ImportRow, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		outcomes, err := s.st.ImportSubscribers(ctx, who, batch)
		if err != nil {
			return err
		}
		for _, o := range outcomes {
			rep.Rows++
			switch o {
			case store.ImportAdded:
				rep.Added++
			case store.ImportExisting:
				rep.Existing++
			case store.ImportSuppressed:
				rep.Suppressed++
			}
		}
		batch = batch[:0]
		s.wake()
		if o.Progress != nil {
			o.Progress(rep)
		}
		return nil
	}
	err = ReadImport(r, func(rec ImportRecord) error {
		row, rerr := s.importRow(cat, rec, o, who)
		if rerr != nil {
			rep.bad(*rerr)
			return nil
		}
		batch = append(batch, row)
		if len(batch) == importBatch {
			return flush()
		}
		return ctx.Err()
	}, rep.bad)
	if err == nil {
		err = flush()
	}
	if err != nil {
		s.log.Warn("import stopped", "rows", rep.Rows, "added", rep.Added, "err", err)
		if errors.Is(err, ErrHeader) {
			return rep, &gateway.Error{Code: gateway.EUNPROCESSABLE, Message: err.Error(), Err: err,
				Fields: map[string]string{"header": "must name the columns email, components, confirmed"}}
		}
		return rep, err
	}
	s.log.Info("import done", "rows", rep.Rows, "added", rep.Added, "existing", rep.Existing,
		"suppressed", rep.Suppressed, "invalid", rep.Invalid)
	return rep, nil
}

// importRow turns a checked record into a subscriber to insert.
func (s *Service) importRow(cat *catalog, rec ImportRecord, o ImportOptions, who gateway.Principal) (store.ImportRow, *RowError) {
	ch, err := cat.resolveMixed(rec.Components)
	if err != nil {
		return store.ImportRow{}, &RowError{Line: rec.Line, Field: "components", Message: fieldProblem(err, "components")}
	}
	confirmed := o.Confirmed || rec.Confirmed
	consent := o.ConsentSource
	if rec.ConsentSource != "" {
		consent = rec.ConsentSource
	}
	if confirmed && consent == "" {
		return store.ImportRow{}, &RowError{Line: rec.Line, Field: "confirmed",
			Message: "a confirmed row needs a consent source (consent_source / --consent-source)"}
	}
	sub := gateway.Subscriber{ID: gateway.NewID(), Kind: gateway.SubscriberEmail, Address: rec.Email,
		Status: gateway.SubscriberPending, TokenNonce: newNonce(), AllComponents: ch.all,
		ComponentIDs: ch.components, GroupIDs: ch.groups}
	row := store.ImportRow{Subscriber: sub}
	if confirmed {
		row.Subscriber.Status, row.Subscriber.ConfirmedAt = gateway.SubscriberActive, s.o.Now()
		row.Subscriber.ConsentSource = consent
	} else {
		row.Confirm = s.confirmEvent(&row.Subscriber, who)
	}
	return row, nil
}

// fieldProblem returns what a field error says about field, or its
// message.
func fieldProblem(err error, field string) string {
	var ge *gateway.Error
	if errors.As(err, &ge) {
		for k, v := range ge.Fields {
			if k == field || len(ge.Fields) == 1 {
				return v
			}
		}
		return ge.Message
	}
	return err.Error()
}

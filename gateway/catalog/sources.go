package catalog

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/store"
)

// SourceChange is a new ingest source or a change to one: only the fields
// that are set change. A source's name is its URL (/ingest/{name}), so it
// is set when the source is made and never changes.
type SourceChange struct {
	Name      *string
	Kind      *string
	RateLimit *float64 // requests per second; 0 is unlimited
}

// CreateSource makes a source with a new token and audits
// "source.create". It returns the source and the token, which is stored
// only as a hash: this is the one time it is shown.
func (s *Service) CreateSource(ctx context.Context, who gateway.Principal, ch SourceChange) (*gateway.Source, string, error) {
	switch {
	case ch.Name == nil || *ch.Name == "":
		return nil, "", gateway.FieldError("name", "is required (it names the ingest URL, /ingest/{name})")
	case ch.Kind == nil:
		return nil, "", gateway.FieldError("kind", "is required: one of "+strings.Join(sources.Kinds(), ", "))
	}
	src := gateway.Source{}
	if err := applySource(&src, ch); err != nil {
		return nil, "", err
	}
	if err := refuseProbeSource(src.Name); err != nil {
		return nil, "", err
	}
	var token string
	out, err := audited(s, ctx, who, func(tx *store.Tx) (*gateway.Source, entry, error) {
		var err error
		token, err = tx.CreateSource(&src) // first: it fills the id the entry names
		return &src, entry{"source.create", "source", src.ID, map[string]any{"name": src.Name, "kind": src.Kind}}, err
	})
	if err != nil {
		return nil, "", err
	}
	return out, token, nil
}

// UpdateSource changes the kind or rate limit of the source idOrName and
// audits "source.update".
func (s *Service) UpdateSource(ctx context.Context, who gateway.Principal, idOrName string, ch SourceChange) (*gateway.Source, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Source, entry, error) {
		src, err := changeable(tx, idOrName)
		if err != nil {
			return nil, entry{}, err
		}
		if ch.Name != nil && *ch.Name != src.Name {
			return nil, entry{}, gateway.FieldError("name", "cannot change: it is the source's ingest URL")
		}
		if err := applySource(src, ch); err != nil {
			return nil, entry{}, err
		}
		return src, entry{"source.update", "source", src.ID, map[string]any{"name": src.Name, "kind": src.Kind, "rate_limit": src.RateLimit}},
			tx.UpdateSource(src)
	})
}

// RotateSourceToken gives the source idOrName a new token, audits
// "source.rotate_token" and returns the source and the token; the old one
// stops working with the commit. A source declared in the config file
// keeps the file's token (the next start would restore it), so rotating it
// here is ECONFLICT.
func (s *Service) RotateSourceToken(ctx context.Context, who gateway.Principal, idOrName string) (*gateway.Source, string, error) {
	var token string
	out, err := audited(s, ctx, who, func(tx *store.Tx) (*gateway.Source, entry, error) {
		src, err := changeable(tx, idOrName)
		if err != nil {
			return nil, entry{}, err
		}
		if src.Origin == gateway.OriginConfig {
			return nil, entry{}, gateway.Errorf(gateway.ECONFLICT, "Source %s is declared in the config file: change its token there.", src.Name)
		}
		if token, err = tx.RotateSourceToken(src.ID); err != nil {
			return nil, entry{}, err
		}
		if src, err = tx.Source(src.ID); err != nil {
			return nil, entry{}, err
		}
		return src, entry{"source.rotate_token", "source", src.ID, map[string]any{"name": src.Name, "token_prefix": src.TokenPrefix}}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, token, nil
}

// DeleteSource deletes the source idOrName with every alert it sent and
// audits "source.delete"; it returns what was deleted.
func (s *Service) DeleteSource(ctx context.Context, who gateway.Principal, idOrName string) (*gateway.Source, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Source, entry, error) {
		src, err := changeable(tx, idOrName)
		if err != nil {
			return nil, entry{}, err
		}
		return src, entry{"source.delete", "source", src.ID, map[string]any{"name": src.Name}}, tx.DeleteSource(src.ID)
	})
}

// applySource validates the change's fields that are set and copies them
// onto src; the name only when src has none yet (a new source).
func applySource(src *gateway.Source, ch SourceChange) error {
	if ch.Name != nil && src.ID == "" {
		if !gateway.SourceNameRE.MatchString(*ch.Name) {
			return gateway.FieldError("name", "must be lowercase letters, digits, - and _ (at most 63), starting with a letter or digit")
		}
		src.Name = *ch.Name
	}
	if ch.Kind != nil {
		if !slices.Contains(sources.Kinds(), *ch.Kind) {
			return gateway.FieldError("kind", "must be one of "+strings.Join(sources.Kinds(), ", "))
		}
		src.Kind = *ch.Kind
	}
	if ch.RateLimit != nil {
		if r := *ch.RateLimit; r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return gateway.FieldError("rate_limit", "must be 0 (unlimited) or more requests per second")
		}
		src.RateLimit = *ch.RateLimit
	}
	return nil
}

// changeable reads the source idOrName for a change: ENOTFOUND when there
// is none, ECONFLICT when it is the probes' own.
func changeable(tx *store.Tx, idOrName string) (*gateway.Source, error) {
	src, err := tx.Source(idOrName)
	if err != nil {
		return nil, err
	}
	return src, refuseProbeSource(src.Name)
}

// refuseProbeSource is the one place that guards the source the built-in
// probes' alerts are stored under: it has no token and no decoder, and a
// token given to it would let a client resolve the probes' alerts, so no
// one (the API, the console, the config file) may create, change, rotate
// or delete it.
func refuseProbeSource(name string) error {
	if name != gateway.ProbeSourceName {
		return nil
	}
	return gateway.Errorf(gateway.ECONFLICT, "The source %q is Herald's own, for the alerts of its built-in probes; it cannot be created, changed or deleted.", gateway.ProbeSourceName)
}

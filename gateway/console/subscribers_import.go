package console

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
	"github.com/heraldstatus/herald/subscribers"
)

// CSV import from the console. The upload is copied to a temporary file
// and imported in the background by subscribers.Service.Import, the API's
// call, which reports after every batch; the browser is redirected to a
// progress page that refreshes itself (a Refresh header: no JavaScript)
// until the import ends, and then shows the report. The job and its
// report stay in memory for importKeep, so reloading the page shows the
// result again and never imports twice (post/redirect/get). Jobs live in
// the replica that took the upload: behind a load balancer without
// sticky sessions another replica answers "not found" for the job.

const (
	// importBodyLimit bounds an uploaded file (the console's other forms
	// keep bodyLimit): about a million rows of email,components,confirmed.
	importBodyLimit = 64 << 20
	// importTimeout bounds one import; it is resumable (running the same
	// file again adds nothing twice), so a cut-off import can be rerun.
	importTimeout = 30 * time.Minute
	// importKeep is how long a finished import's report stays viewable.
	importKeep = 24 * time.Hour
	// importRefresh is how often the progress page reloads itself.
	importRefresh = 2
	// maxShownRowErrors bounds the row errors the progress page lists.
	maxShownRowErrors = 200
)

// importJob is one console import, shared between the goroutine that runs
// it and the progress pages that read it.
type importJob struct {
	ID, File, By string
	Started      time.Time

	mu       sync.Mutex
	report   subscribers.ImportReport
	done     bool
	ended    time.Time
	err      string
	finished chan struct{}
}

// importJobView is a consistent copy of a job for the progress page.
type importJobView struct {
	ID, File, By   string
	Started, Ended time.Time
	Done           bool
	Err            string
	Report         subscribers.ImportReport
	// MoreErrors counts row errors not listed on the page.
	MoreErrors int
}

func (j *importJob) view() importJobView {
	j.mu.Lock()
	defer j.mu.Unlock()
	v := importJobView{ID: j.ID, File: j.File, By: j.By, Started: j.Started, Ended: j.ended, Done: j.done, Err: j.err, Report: j.report}
	if len(v.Report.Errors) > maxShownRowErrors {
		v.Report.Errors = v.Report.Errors[:maxShownRowErrors]
	}
	v.MoreErrors = v.Report.Invalid - len(v.Report.Errors)
	return v
}

// progress records the report so far; it runs in the importing goroutine,
// so copying the error list here is race-free.
func (j *importJob) progress(r subscribers.ImportReport) {
	r.Errors = append([]subscribers.RowError(nil), r.Errors...)
	j.mu.Lock()
	j.report = r
	j.mu.Unlock()
}

func (j *importJob) finish(r subscribers.ImportReport, err error, now time.Time) {
	j.progress(r)
	j.mu.Lock()
	j.done, j.ended = true, now
	if err != nil {
		j.err = gateway.ErrorMessage(err)
	}
	j.mu.Unlock()
	close(j.finished)
}

// importJobs holds the imports one console started, by their unguessable
// id. It is a field of the Handler, not a package variable, so that two
// consoles in one process (tests, or two servers) never see each other's
// imports. The zero value is ready to use.
type importJobs struct {
	mu sync.Mutex
	m  map[string]*importJob
}

// add keeps j, dropping the reports finished more than importKeep ago.
func (js *importJobs) add(j *importJob, now time.Time) {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.m == nil {
		js.m = map[string]*importJob{}
	}
	for id, old := range js.m {
		if v := old.view(); v.Done && now.Sub(v.Ended) > importKeep {
			delete(js.m, id)
		}
	}
	js.m[j.ID] = j
}

// find returns the import of id, or nil.
func (js *importJobs) find(id string) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.m[id]
}

// upload registers a POST that takes a file of up to limit bytes, with
// everything Router.POST adds but its 1 MiB body limit.
func (r Router) upload(path string, need gateway.Role, limit int64, fn echo.HandlerFunc) {
	h := r.h
	r.g.POST(path, h.page(func(c echo.Context) error {
		if err := bodylimit.Limit(c.Response(), c.Request(), limit, fileTooLarge); err != nil {
			return err
		}
		return h.signedIn(h.csrf(h.requireRole(need, fn)))(c)
	}))
}

// fileTooLarge refuses an upload over n bytes.
func fileTooLarge(n int64) error {
	return gateway.Errorf(gateway.ETOOLARGE, "The file is larger than %d MiB; import it with `herald subscribers import`, or split it.", n>>20)
}

func (h *Handler) subscriberImportForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "subscribers-import", "Import subscribers", nil)
}

// subscriberImport takes the upload, starts the import and redirects to
// its progress page.
func (h *Handler) subscriberImport(c echo.Context) error {
	svc := h.opt.Subscribers
	fh, err := c.FormFile("file")
	if n, over := bodylimit.Over(err); over {
		return fileTooLarge(n)
	}
	if err != nil {
		return gateway.FieldError("file", "choose a CSV file to import")
	}
	opt := subscribers.ImportOptions{Confirmed: c.FormValue("confirmed") == "on", ConsentSource: strings.TrimSpace(c.FormValue("consent_source"))}
	// Refuse a missing consent source now, not on the progress page.
	if opt.Confirmed && opt.ConsentSource == "" {
		return gateway.FieldError("consent_source", "is required to import subscribers as already confirmed")
	}
	tmp, err := spool(fh)
	if err != nil {
		return err
	}
	who := Principal(c)
	j := &importJob{ID: gateway.NewSecret("imp_"), File: fh.Filename, By: who.Name, Started: h.now(), finished: make(chan struct{})}
	h.imports.add(j, h.now())
	opt.Progress = j.progress
	go func() {
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		// The request ends now; the import must not end with it.
		ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
		defer cancel()
		rep, err := svc.Import(ctx, who, tmp, opt)
		if err != nil {
			h.log.Warn("console import stopped", "job", j.ID, "err", err)
		}
		j.finish(rep, err, h.now())
	}()
	return h.redirect(c, Prefix+"/subscribers/import/"+j.ID, "Import started.")
}

// spool copies an upload to a temporary file of the import's own: the
// request's multipart files are deleted when the request ends.
func spool(fh *multipart.FileHeader) (*os.File, error) {
	src, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("console: open upload: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp("", "herald-import-*.csv")
	if err != nil {
		return nil, fmt.Errorf("console: spool upload: %w", err)
	}
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("console: spool upload: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("console: spool upload: %w", err)
	}
	return tmp, nil
}

func (h *Handler) subscriberImportProgress(c echo.Context) error {
	j := h.imports.find(c.Param("job"))
	if j == nil {
		return gateway.Errorf(gateway.ENOTFOUND, "There is no such import on this server (reports are kept for %d hours).", int(importKeep.Hours()))
	}
	v := j.view()
	if !v.Done {
		// Reload until done; the finished page stays still.
		c.Response().Header().Set("Refresh", strconv.Itoa(importRefresh))
	}
	return h.render(c, http.StatusOK, "subscribers-import-progress", "Import "+v.File, v)
}

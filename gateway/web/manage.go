package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/subscribers"
)

// messageView is a page that only says something.
type messageView struct {
	layoutView
	Heading        string
	Lines          []string
	Link, LinkText string
}

// pickerView is the component picker: everything, or groups (with their
// members) and components ticked one by one, in page order.
type pickerView struct {
	All      bool
	Sections []pickSection
}

type pickSection struct {
	Group     *pickGroup
	Component *pickItem
}

type pickGroup struct {
	pickItem
	Members []pickItem
}

type pickItem struct {
	ID, Name string
	Checked  bool
}

// picker builds the picker from the page's components, ticked as sub
// chooses (nil: everything).
func (h *Handler) picker(c echo.Context, sub *gateway.Subscriber) (pickerView, error) {
	st := h.opt.Store
	cx, cancel := ctx(c)
	defer cancel()
	groups, err := st.ComponentGroups(cx)
	if err != nil {
		return pickerView{}, err
	}
	comps, err := st.Components(cx)
	if err != nil {
		return pickerView{}, err
	}
	v := pickerView{All: sub == nil || sub.AllComponents}
	var chosenComps, chosenGroups []string
	if sub != nil && !sub.AllComponents {
		chosenComps, chosenGroups = sub.ComponentIDs, sub.GroupIDs
	}
	gi := map[string]*pickGroup{}
	names := map[string]string{}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	for _, cm := range comps {
		item := pickItem{ID: cm.ID, Name: cm.Name, Checked: slices.Contains(chosenComps, cm.ID)}
		name, grouped := names[cm.GroupID]
		if !grouped {
			v.Sections = append(v.Sections, pickSection{Component: &item})
			continue
		}
		g := gi[cm.GroupID]
		if g == nil {
			g = &pickGroup{pickItem: pickItem{ID: cm.GroupID, Name: name, Checked: slices.Contains(chosenGroups, cm.GroupID)}}
			gi[cm.GroupID] = g
			v.Sections = append(v.Sections, pickSection{Group: g})
		}
		g.Members = append(g.Members, item)
	}
	return v, nil
}

// manageView is a subscriber's own page.
type manageView struct {
	layoutView
	CSRF   string
	Token  string
	Sub    *gateway.Subscriber
	Picker pickerView
	Saved  bool
	Error  string
}

// Active reports whether the subscription is still on.
func (v manageView) Active() bool {
	return v.Sub.Status == gateway.SubscriberActive || v.Sub.Status == gateway.SubscriberPending
}

func (h *Handler) confirm(c echo.Context) error {
	svc := h.opt.Subscribers
	sub, err := svc.Confirm(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	manage, _ := svc.Links(sub)
	return h.html(c, http.StatusOK, "message", messageView{layoutView: h.layout("Subscription confirmed"),
		Heading: "You are subscribed",
		Lines: []string{sub.Address + " will get an email whenever " + h.pageName() + " posts about the components you chose.",
			"Every email has a link to change what you receive or to unsubscribe."},
		Link: manage, LinkText: "Manage your subscription"})
}

func (h *Handler) manage(c echo.Context) error {
	return h.renderManage(c, http.StatusOK, false, "")
}

// renderManage loads the subscriber of the link and shows its page.
func (h *Handler) renderManage(c echo.Context, status int, saved bool, problem string) error {
	svc := h.opt.Subscribers
	token := c.Param("token")
	sub, err := svc.ByManageToken(c.Request().Context(), token)
	if err != nil {
		return err
	}
	picker, err := h.picker(c, sub)
	if err != nil {
		return err
	}
	return h.html(c, status, "manage", manageView{layoutView: h.layout("Your subscription"), CSRF: csrfToken(c),
		Token: token, Sub: sub, Picker: picker, Saved: saved, Error: problem})
}

// formService returns the service for a form a person posts, after
// taking the post from the client address's allowance.
func (h *Handler) formService(c echo.Context) (*subscribers.Service, error) {
	svc := h.opt.Subscribers
	if err := svc.AllowIP(c.RealIP()); err != nil {
		retryAfter(c, err)
		return nil, err
	}
	return svc, nil
}

func (h *Handler) manageSave(c echo.Context) error {
	svc, err := h.formService(c)
	if err != nil {
		return err
	}
	all, comps, groups, err := chosen(c)
	if err == nil {
		_, err = svc.SetSubscriptions(c.Request().Context(), c.Param("token"), all, comps, groups)
	}
	if gateway.ErrorCode(err) == gateway.EUNPROCESSABLE {
		return h.renderManage(c, http.StatusUnprocessableEntity, false, fieldMessage(err))
	}
	if err != nil {
		return err
	}
	return h.renderManage(c, http.StatusOK, true, "")
}

func (h *Handler) manageLeave(c echo.Context) error {
	svc, err := h.formService(c)
	if err != nil {
		return err
	}
	if err := svc.Unsubscribe(c.Request().Context(), c.Param("token")); err != nil {
		return err
	}
	return h.unsubscribed(c)
}

// unsubscribePage asks before unsubscribing: mail scanners follow GET
// links, and must not unsubscribe anyone.
func (h *Handler) unsubscribePage(c echo.Context) error {
	return h.html(c, http.StatusOK, "unsubscribe", struct {
		layoutView
		Token string
	}{h.layout("Unsubscribe"), c.Param("token")})
}

// unsubscribe serves the page's button and RFC 8058's one-click POST
// (body List-Unsubscribe=One-Click, sent by mail clients, hence no CSRF
// token): 200 once unsubscribed, again and again.
func (h *Handler) unsubscribe(c echo.Context) error {
	svc := h.opt.Subscribers
	if err := svc.Unsubscribe(c.Request().Context(), c.Param("token")); err != nil {
		return err
	}
	return h.unsubscribed(c)
}

func (h *Handler) unsubscribed(c echo.Context) error {
	return h.html(c, http.StatusOK, "message", messageView{layoutView: h.layout("Unsubscribed"), Heading: "You are unsubscribed",
		Lines: []string{"You will get no more emails from " + h.pageName() + ".", "Changed your mind? You can subscribe again at any time."},
		Link:  "/subscribe", LinkText: "Subscribe again"})
}

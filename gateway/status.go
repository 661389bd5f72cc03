package gateway

// ComponentStatus is a component's state, in Statuspage's vocabulary.
type ComponentStatus string

// The component statuses, from best to worst for outages; maintenance is
// reported separately from outages (see Rank).
const (
	Operational         ComponentStatus = "operational"
	DegradedPerformance ComponentStatus = "degraded_performance"
	PartialOutage       ComponentStatus = "partial_outage"
	MajorOutage         ComponentStatus = "major_outage"
	UnderMaintenance    ComponentStatus = "under_maintenance"
)

// ComponentStatuses lists every valid component status.
var ComponentStatuses = []ComponentStatus{Operational, DegradedPerformance, PartialOutage, MajorOutage, UnderMaintenance}

// Valid reports whether s is one of ComponentStatuses.
func (s ComponentStatus) Valid() bool {
	for _, v := range ComponentStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Rank orders statuses by how bad they are for a reader of the status page:
// operational < under_maintenance < degraded < partial < major. A component
// under maintenance that is also failing shows the failure.
func (s ComponentStatus) Rank() int {
	switch s {
	case Operational:
		return 0
	case UnderMaintenance:
		return 1
	case DegradedPerformance:
		return 2
	case PartialOutage:
		return 3
	case MajorOutage:
		return 4
	}
	return -1
}

// Worse returns the worse of s and o by Rank.
func (s ComponentStatus) Worse(o ComponentStatus) ComponentStatus {
	if o.Rank() > s.Rank() {
		return o
	}
	return s
}

// IncidentStatus is an incident's (or a maintenance's) lifecycle state.
type IncidentStatus string

// Incident and maintenance statuses, as Statuspage names them.
const (
	Investigating IncidentStatus = "investigating"
	Identified    IncidentStatus = "identified"
	Monitoring    IncidentStatus = "monitoring"
	Resolved      IncidentStatus = "resolved"
	Postmortem    IncidentStatus = "postmortem"

	MaintenanceScheduled  IncidentStatus = "scheduled"
	MaintenanceInProgress IncidentStatus = "in_progress"
	MaintenanceVerifying  IncidentStatus = "verifying"
	MaintenanceCompleted  IncidentStatus = "completed"
)

// IncidentStatuses and MaintenanceStatuses list the valid values per kind.
var (
	IncidentStatuses    = []IncidentStatus{Investigating, Identified, Monitoring, Resolved, Postmortem}
	MaintenanceStatuses = []IncidentStatus{MaintenanceScheduled, MaintenanceInProgress, MaintenanceVerifying, MaintenanceCompleted}
)

// Open reports whether an incident in this status still needs attention.
func (s IncidentStatus) Open() bool {
	switch s {
	case Resolved, Postmortem, MaintenanceCompleted:
		return false
	}
	return true
}

// Impact is an incident's overall severity, as Statuspage names it.
type Impact string

// Impacts, from none to critical; maintenance is Statuspage's impact for
// scheduled maintenances.
const (
	ImpactNone        Impact = "none"
	ImpactMinor       Impact = "minor"
	ImpactMajor       Impact = "major"
	ImpactCritical    Impact = "critical"
	ImpactMaintenance Impact = "maintenance"
)

// Valid reports whether i is a known impact.
func (i Impact) Valid() bool {
	switch i {
	case ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical, ImpactMaintenance:
		return true
	}
	return false
}

// AlertStatus is the state a monitoring tool reports for an alert.
type AlertStatus string

// Alert statuses.
const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// Severity is an alert's normalized severity.
type Severity string

// Severities, worst first.
const (
	SeverityCritical Severity = "critical"
	SeverityError    Severity = "error"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Rank orders severities: info < warning < error < critical.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityError:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// Role is what an API key or console user may do.
type Role string

// Roles: admin does everything, support runs incidents, broadcasts and
// subscribers, viewer only reads.
const (
	RoleAdmin   Role = "admin"
	RoleSupport Role = "support"
	RoleViewer  Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleSupport || r == RoleViewer }

// Allows reports whether a holder of r may act where need is required:
// admin ⊃ support ⊃ viewer.
func (r Role) Allows(need Role) bool { return r.level() >= need.level() && r.Valid() }

func (r Role) level() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleSupport:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

-- What the public status page, its feeds and the Statuspage-compatible API
-- read. Only published incidents are public.

-- One row that changes whenever anything a public page shows changes: the
-- counts catch deletions and publications (a draft published within the
-- clock's resolution of its last edit), the newest times catch inserts and
-- edits. Pages
-- compare it before rendering (ETag, Last-Modified, 304).
-- name: page-version
SELECT (SELECT COUNT(*) FROM components) AS component_count,
       (SELECT COUNT(*) FROM component_groups) AS group_count,
       (SELECT COUNT(*) FROM incident_components) AS incident_component_count,
       (SELECT COUNT(*) FROM incidents WHERE published) AS published_count,
       (SELECT MAX(updated_at) FROM components) AS components_at,
       (SELECT MAX(updated_at) FROM component_groups) AS groups_at,
       (SELECT MAX(updated_at) FROM incidents) AS incidents_at,
       (SELECT MAX(updated_at) FROM incident_updates) AS updates_at,
       (SELECT MIN(created_at) FROM incidents WHERE published) AS first_incident_at;

-- The selection of page-incidents, page-incident-updates and
-- page-incident-components is the same, so each takes the same arguments:
-- kind ('' for both, twice), closed since (open ones always; far future
-- for open only), began from, began before (a maintenance begins at its
-- scheduled start, an incident when it was created), limit.
-- name: page-incidents
SELECT id, kind, name, status, impact, automated, human_at, published, '' AS correlation_key,
       last_alert_at, next_update_at, scheduled_for, scheduled_until, auto_transition, postmortem_body,
       postmortem_published_at, created_by, created_at, updated_at, monitoring_at, resolved_at,
       COALESCE(root_cause_id, '') AS root_cause_id, root_cause_inferred,
       COALESCE((SELECT name FROM components c WHERE c.id = root_cause_id), '') AS root_cause_name
FROM incidents
WHERE published AND (? = '' OR kind = ?)
  AND (status NOT IN ('resolved', 'postmortem', 'completed') OR COALESCE(resolved_at, updated_at) >= ?)
  AND COALESCE(scheduled_for, created_at) >= ? AND COALESCE(scheduled_for, created_at) < ?
ORDER BY created_at DESC, id DESC LIMIT ?;

-- name: page-incident-updates
SELECT id, incident_id, status, body, affected_components, notify, automated, author, next_update_at, display_at, created_at
FROM incident_updates
WHERE incident_id IN (
    SELECT id FROM incidents
    WHERE published AND (? = '' OR kind = ?)
      AND (status NOT IN ('resolved', 'postmortem', 'completed') OR COALESCE(resolved_at, updated_at) >= ?)
      AND COALESCE(scheduled_for, created_at) >= ? AND COALESCE(scheduled_for, created_at) < ?
    ORDER BY created_at DESC, id DESC LIMIT ?)
ORDER BY display_at DESC, created_at DESC;

-- name: page-incident-components
SELECT incident_id, component_id, status
FROM incident_components
WHERE incident_id IN (
    SELECT id FROM incidents
    WHERE published AND (? = '' OR kind = ?)
      AND (status NOT IN ('resolved', 'postmortem', 'completed') OR COALESCE(resolved_at, updated_at) >= ?)
      AND COALESCE(scheduled_for, created_at) >= ? AND COALESCE(scheduled_for, created_at) < ?
    ORDER BY created_at DESC, id DESC LIMIT ?);

-- The newest updates of published incidents, for the feeds, and their
-- published postmortems as updates of status postmortem (the incident's
-- id, shown at publication, created when the incident was).
-- name: feed-updates
SELECT id, incident_id, status, body, display_at, created_at, incident_name, incident_kind FROM (
    SELECT u.id, u.incident_id, u.status, u.body, u.display_at, u.created_at, i.name AS incident_name, i.kind AS incident_kind
    FROM incident_updates u JOIN incidents i ON i.id = u.incident_id
    WHERE i.published
    UNION ALL
    SELECT i.id, i.id, 'postmortem', i.postmortem_body, i.postmortem_published_at, i.created_at, i.name, i.kind
    FROM incidents i
    WHERE i.published AND i.postmortem_published_at IS NOT NULL AND i.postmortem_body <> ''
) feed
ORDER BY display_at DESC, created_at DESC LIMIT ?;

-- What the page's status reads of the open incidents (gateway.Overall),
-- captured into each event when it is written.
-- name: open-page-incidents
SELECT id, kind, status, impact FROM incidents
WHERE published AND status NOT IN ('resolved', 'postmortem', 'completed');

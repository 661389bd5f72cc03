-- Draft incidents: open incidents support has not published yet. Nothing
-- public changes on their account until they are (see the incidents
-- service's reconcile pass).

-- name: open-drafts
SELECT id FROM incidents
WHERE kind = 'incident' AND NOT published AND status NOT IN ('resolved', 'postmortem');

-- Components and component groups.

-- name: list-groups
SELECT id, name, description, position, origin, created_at, updated_at
FROM component_groups ORDER BY position, name;

-- name: get-group
SELECT id, name, description, position, origin, created_at, updated_at
FROM component_groups WHERE id = ? OR name = ? LIMIT 1;

-- name: insert-group
INSERT INTO component_groups (id, name, description, position, origin, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: update-group
UPDATE component_groups SET name = ?, description = ?, position = ?, updated_at = ? WHERE id = ?;

-- name: delete-group
DELETE FROM component_groups WHERE id = ?;

-- Groups and components of no group share the page's top level, so a new
-- one goes after all of them.
-- name: next-group-position
SELECT COALESCE(MAX(position) + 1, 0) FROM (
    SELECT position FROM component_groups
    UNION ALL SELECT position FROM components WHERE group_id IS NULL) top_level;

-- Page order: the top level (groups and components of no group, which share
-- one space of positions) by position, then name; a group's components by
-- their position, then name. No NULL takes part in the order, whose place
-- differs between SQLite and PostgreSQL.
-- name: list-components
SELECT c.id, COALESCE(c.group_id, '') AS group_id, c.name, c.description, c.position, c.status,
       COALESCE(c.manual_status, '') AS manual_status, c.held, c.status_changed_at, c.origin, c.created_at, c.updated_at
FROM components c LEFT JOIN component_groups g ON g.id = c.group_id
ORDER BY COALESCE(g.position, c.position), COALESCE(g.name, c.name), c.position, c.name;

-- name: get-component
SELECT id, COALESCE(group_id, '') AS group_id, name, description, position, status,
       COALESCE(manual_status, '') AS manual_status, held, status_changed_at, origin, created_at, updated_at
FROM components WHERE id = ? OR name = ? LIMIT 1;

-- name: insert-component
INSERT INTO components (id, group_id, name, description, position, status, status_changed_at, origin, created_at, updated_at)
VALUES (?, NULLIF(?, ''), ?, ?, ?, 'operational', ?, ?, ?, ?);

-- name: update-component
UPDATE components SET group_id = NULLIF(?, ''), name = ?, description = ?, position = ?, updated_at = ? WHERE id = ?;

-- name: delete-component
DELETE FROM components WHERE id = ?;

-- The end of a group (group id) or of the top level ('', twice), which
-- groups share.
-- name: next-component-position
SELECT COALESCE(MAX(position) + 1, 0) FROM (
    SELECT position FROM components WHERE COALESCE(group_id, '') = ?
    UNION ALL SELECT position FROM component_groups WHERE ? = '') top_level;

-- name: sync-update-group
UPDATE component_groups SET description = ?, position = ?, origin = 'config', updated_at = ? WHERE id = ?;

-- name: sync-update-component
UPDATE components SET group_id = NULLIF(?, ''), description = ?, position = ?, origin = 'config', updated_at = ? WHERE id = ?;

-- Serializes config syncs of replicas starting at once, so that one creates
-- what the file declares and the others find it (a no-op on SQLite, whose
-- single writer serializes them already; PostgreSQL overrides it with an
-- advisory lock).
-- name: lock-config-sync
SELECT 1;

-- Dependencies: the edges of the component graph.

-- name: list-dependencies
SELECT component_id, depends_on_id FROM component_dependencies ORDER BY component_id, depends_on_id;

-- name: insert-dependency
INSERT INTO component_dependencies (component_id, depends_on_id) VALUES (?, ?);

-- name: delete-dependencies
DELETE FROM component_dependencies WHERE component_id = ?;

-- Serializes changes of the dependency graph, so that two that are each
-- acyclic cannot together make a cycle (a no-op on SQLite's single
-- writer; PostgreSQL overrides it with an advisory lock).
-- name: lock-dependencies
SELECT 1;

-- A dependency change is a change of the component: the public page's
-- version follows components' updated_at.
-- name: touch-component
UPDATE components SET updated_at = ? WHERE id = ?;

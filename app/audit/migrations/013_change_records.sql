-- "What changed" (`k8s_changes`): metadata-only change records kept by the workers' watcher
-- (app/changes), because Kubernetes forgets most history and events expire after about an hour.
-- Only kind, namespace, name, times, image references, replica counts, resourceVersion and a short
-- description — never ConfigMap data, never anything from Secrets. Under the 90-day retention
-- (`aiops retention run`).
CREATE TABLE IF NOT EXISTS change_records (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,                 -- deployment, statefulset, daemonset, hpa, configmap, job, node
    namespace TEXT NOT NULL DEFAULT '', -- '' for cluster-scoped objects (nodes)
    name TEXT NOT NULL,
    resource_version TEXT NOT NULL,
    change TEXT NOT NULL,               -- rollout, scaled, updated, failed, cordoned, pressure, ...
    changed_at TIMESTAMPTZ NOT NULL,    -- when it happened (managedFields/condition time, else seen)
    observed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    images JSONB NOT NULL DEFAULT '{}', -- container -> image after the change
    previous_images JSONB NOT NULL DEFAULT '{}',
    replicas INTEGER,
    previous_replicas INTEGER,
    detail TEXT NOT NULL DEFAULT '',   -- our own words and numbers only
    by_manager TEXT,                   -- the field manager of the write, as the cluster says
    reason TEXT                        -- a Job's failure reason, as the cluster says
);
-- several workers may observe the same object version: it is recorded once
CREATE UNIQUE INDEX IF NOT EXISTS change_records_version
    ON change_records (kind, namespace, name, resource_version);
CREATE INDEX IF NOT EXISTS change_records_changed ON change_records (changed_at);
CREATE INDEX IF NOT EXISTS change_records_ns_changed ON change_records (namespace, changed_at);

-- The last state the watcher saw per object (images, replicas, flags), to tell a change from a
-- status-only update. Rows of objects that no longer exist are dropped on the next full listing.
CREATE TABLE IF NOT EXISTS change_watch_state (
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    resource_version TEXT NOT NULL,
    state JSONB NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (kind, namespace, name)
);

-- One poll per interval across all workers: the worker that moves `polled_at` forward polls.
CREATE TABLE IF NOT EXISTS change_watch_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    polled_at TIMESTAMPTZ NOT NULL,
    holder TEXT NOT NULL DEFAULT ''
);
INSERT INTO change_watch_lease (id, polled_at) VALUES (1, 'epoch') ON CONFLICT DO NOTHING;

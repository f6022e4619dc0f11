/** The job queues of syncs: the runs, and the dead letters awaiting `sync redrive`. */
export const SYNC_QUEUE = 'sync';
export const DEAD_QUEUE = 'sync-dead';

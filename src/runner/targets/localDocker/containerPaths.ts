/** Where a run container sees its files (the same in every run, so scripts and `mlw` can rely on them). */
export const CONTAINER_WORKSPACE = '/workspace';
export const CONTAINER_OUTPUTS = `${CONTAINER_WORKSPACE}/outputs`;
export const CONTAINER_HELPER = '/mlw/lib';
export const CONTAINER_TRACKING = '/mlw/tracking';

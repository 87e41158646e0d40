/** The live state (issue 5) for the composition root: the service, its routes and the seams it takes. */
export { startLiveService, type LiveService, type LiveServiceOptions, type LiveServiceStats } from './live-service.ts';
export { liveRoutes, type LiveRoutesDeps } from './live-routes.ts';
export { LiveState, type AlertsView, type LiveAlert, type LiveStateOptions, type LivenessView, type PlaceInfo, type PlaceLookup } from './live-state.ts';
export { BUSY_THRESHOLDS, busyBand, UsualBusy, type BusyBand } from './busy-history.ts';

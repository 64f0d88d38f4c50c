/*
    fiber-mqtt/runtime: fibers, events, watches, logging, sfmt and R_ERR_* codes, after Ioto's Safe runtime.
 */
export * from './errors.js'
export * from './time.js'
export { sfmt, sfmtv } from './sfmt.js'
export {
    rLog, rError, rInfo, rTrace, rDebug, rEmitLog, rSetLog, rSetLogFilter, rSetLogFormat, rSetLogHandler,
    rSetAppName, rFormatLog, type RLogHandler,
} from './log.js'
export {
    rSpawnFiber, rAllocFiber, rStartFiber, rGetFiber, rIsMain, rYieldFiber, rResumeFiber, rCancelFiber,
    RFiber, FiberError, rGetFiberStats, type RFiberProc, type Fiber, type Waitable, type CallbackResult,
} from './fiber.js'
export {
    rAllocEvent, rStartEvent, rStartFastEvent, rStopEvent, rRunEvent, rLookupEvent, rGetNextDueEvent, rSleep,
    R_EVENT_FAST, type REvent, type REventProc,
} from './events.js'
export { rWatch, rWatchOff, rSignal, rSignalSync, type RWatchProc } from './watch.js'
export { rEnter, rLeave, type RAccess } from './enter.js'
export { rDeadline } from './deadline.js'
export {
    rInit, rServiceEvents, rStop, rGracefulStop, rTerm, rGetState, rSetState,
    R_STARTED, R_INITIALIZED, R_READY, R_RUNNING, R_STOPPING, R_STOPPED, R_RESTART,
} from './lifecycle.js'
export { rRunFiber, rAwait, rAwaitWaitable } from './bridge.js'
export { Done, Wait, done, isWaitable } from './waitable.js'

/*
    R_ERR_* codes: the runtime's error numbers, identical to Ioto's r.h.
    All errors are negative; zero is success.
 */
export const R_ERR_OK = 0
export const R_ERR_BASE = -1
export const R_ERR = -2
export const R_ERR_ABORTED = -3
export const R_ERR_ALREADY_EXISTS = -4
export const R_ERR_BAD_ACK = -5
export const R_ERR_BAD_ARGS = -6
export const R_ERR_BAD_DATA = -7
export const R_ERR_BAD_FORMAT = -8
export const R_ERR_BAD_HANDLE = -9
export const R_ERR_BAD_NULL = -10
export const R_ERR_BAD_REQUEST = -11
export const R_ERR_BAD_RESPONSE = -12
export const R_ERR_BAD_SESSION = -13
export const R_ERR_BAD_STATE = -14
export const R_ERR_BAD_SYNTAX = -15
export const R_ERR_BAD_TYPE = -16
export const R_ERR_BAD_VALUE = -17
export const R_ERR_BUSY = -18
export const R_ERR_CANT_ACCESS = -19
export const R_ERR_CANT_ALLOCATE = -20
export const R_ERR_CANT_COMPLETE = -21
export const R_ERR_CANT_CONNECT = -22
export const R_ERR_CANT_CREATE = -23
export const R_ERR_CANT_DELETE = -24
export const R_ERR_CANT_FIND = -25
export const R_ERR_CANT_INITIALIZE = -26
export const R_ERR_CANT_LOAD = -27
export const R_ERR_CANT_OPEN = -28
export const R_ERR_CANT_READ = -29
export const R_ERR_CANT_WRITE = -30
export const R_ERR_DELETED = -31
export const R_ERR_MEMORY = -32
export const R_ERR_NETWORK = -33
export const R_ERR_NOT_CONNECTED = -34
export const R_ERR_NOT_INITIALIZED = -35
export const R_ERR_NOT_READY = -36
export const R_ERR_READ_ONLY = -37
export const R_ERR_TIMEOUT = -38
export const R_ERR_TOO_MANY = -39
export const R_ERR_WONT_FIT = -40
export const R_ERR_WOULD_BLOCK = -41
export const R_ERR_MAX = -42

const names = [
    'R_ERR_OK', 'R_ERR_BASE', 'R_ERR', 'R_ERR_ABORTED', 'R_ERR_ALREADY_EXISTS', 'R_ERR_BAD_ACK',
    'R_ERR_BAD_ARGS', 'R_ERR_BAD_DATA', 'R_ERR_BAD_FORMAT', 'R_ERR_BAD_HANDLE', 'R_ERR_BAD_NULL',
    'R_ERR_BAD_REQUEST', 'R_ERR_BAD_RESPONSE', 'R_ERR_BAD_SESSION', 'R_ERR_BAD_STATE', 'R_ERR_BAD_SYNTAX',
    'R_ERR_BAD_TYPE', 'R_ERR_BAD_VALUE', 'R_ERR_BUSY', 'R_ERR_CANT_ACCESS', 'R_ERR_CANT_ALLOCATE',
    'R_ERR_CANT_COMPLETE', 'R_ERR_CANT_CONNECT', 'R_ERR_CANT_CREATE', 'R_ERR_CANT_DELETE', 'R_ERR_CANT_FIND',
    'R_ERR_CANT_INITIALIZE', 'R_ERR_CANT_LOAD', 'R_ERR_CANT_OPEN', 'R_ERR_CANT_READ', 'R_ERR_CANT_WRITE',
    'R_ERR_DELETED', 'R_ERR_MEMORY', 'R_ERR_NETWORK', 'R_ERR_NOT_CONNECTED', 'R_ERR_NOT_INITIALIZED',
    'R_ERR_NOT_READY', 'R_ERR_READ_ONLY', 'R_ERR_TIMEOUT', 'R_ERR_TOO_MANY', 'R_ERR_WONT_FIT',
    'R_ERR_WOULD_BLOCK', 'R_ERR_MAX',
]

/**
    Name of an R_ERR_* code. Unlike the C original (which answers "Unknown error" for every negative code),
    this looks the code up: `rGetError(-34)` is `"R_ERR_NOT_CONNECTED"`.
    @example rGetError(R_ERR_TIMEOUT) // "R_ERR_TIMEOUT"
 */
export function rGetError(rc: number): string {
    const index = -rc
    return Number.isInteger(index) && index >= 0 && index < names.length ? names[index] : 'Unknown error'
}

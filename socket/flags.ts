/*
    RSocket's state flags (C's R_SOCKET_*), in a module of their own so the socket's parts can test them without
    importing the socket.
 */
export const R_SOCKET_CLOSED = 0x1
export const R_SOCKET_EOF = 0x2
export const R_SOCKET_LISTENER = 0x4
export const R_SOCKET_SERVER = 0x8
export const R_SOCKET_FAST_CONNECT = 0x10
export const R_SOCKET_FAST_CLOSE = 0x20

/*
    fiber-mqtt/socket: the Safe runtime socket layer over node:net and node:tls.
 */
export {
    RSocket, R_SOCKET_CLOSED, R_SOCKET_EOF, R_SOCKET_LISTENER, R_SOCKET_SERVER, R_SOCKET_FAST_CONNECT,
    R_SOCKET_FAST_CLOSE, type RSocketProc, type SocketReceiver,
} from './rsocket.js'
export {
    rAllocSocket, rCloseSocket, rDisconnectSocket, rShutdownSocket, rFreeSocket, rResetSocket, rIsSocketClosed,
    rIsSocketEof, rIsSocketSecure, rIsSocketConnected, rGetSocketError, rSetSocketError, rGetSocketAddr,
    rGetSocketAlpn, rGetSocketPeerSubject, rSetSocketNoDelay, rSetSocketLinger, rSetSocketReceiver, rSetSocketBind,
    rSetSocketCoalesce,
} from './control.js'
export { rConnectSocket, SOCKET_DEFAULT_DEADLINE } from './connect.js'
export { rReadSocket, rReadSocketSync, rWriteSocket, rWriteSocketSync, socketSend } from './io.js'
export { rListenSocket, rSetSocketLimit } from './listen.js'
export {
    RTls, rSetSocketCerts, rSetSocketVerify, rSetTls, rSetSocketCiphers, rSetTlsAlpn, rSetTlsServerName, rSetTlsHostCheck,
    rSetTlsVersion, rSetTlsPsk, rSetSocketDefaultCerts, rSetSocketDefaultVerify, rSetSocketDefaultCiphers, rSetTlsDefaultAlpn,
} from './tls.js'
export { rSetWebSocket, type WsSettings } from './ws-settings.js'

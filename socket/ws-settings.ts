/*
    What a socket carried over WebSocket asks for (set by rSetWebSocket, used by the upgrade in rConnectSocket).
 */
export interface WsSettings {
    /** The HTTP path of the upgrade request */
    path: string
    /** The subprotocol asked for (mqtt), or '' for none */
    protocol: string
    /** Extra request headers (a cloud endpoint's authorization, for example) */
    headers: Record<string, string>
}

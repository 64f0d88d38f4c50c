/*
    The connection agent: config-driven connect, backoff, failover, offline queue, durable store.
 */
export { Agent, ioAgent, ioAgentStop, ioAgentStats, ioConnect, ioDisconnect, ioConnected, ioPause, ioto, type AgentHooks, type AgentAttempt } from './agent.js'
export { parseConfig, duration, AgentConfigError, type AgentConfig, type ServerConfig } from './config.js'
export { Backoff } from './backoff.js'
export { FileStore, StoreError, readStore, scanStore, type Damage, type StoredMessage } from './store.js'

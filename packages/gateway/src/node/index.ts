export { serveGateway } from './serve-gateway.js';
export type { ServeOptions, ServedGateway } from './serve-gateway.js';

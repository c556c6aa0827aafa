export { TypedEmitter } from './typed-emitter.js';
export type { Listener, TypedEmitterOptions } from './typed-emitter.js';

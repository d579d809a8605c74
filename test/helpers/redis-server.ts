// Private redis-servers on free loopback ports, for the whole test run or for one fault test (scripts/lib/local.js).
export { freePort, startRedisServer, type RedisServer, type RedisServerOptions } from '../../scripts/lib/local.js'

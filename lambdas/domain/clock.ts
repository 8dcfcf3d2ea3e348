/** Time as the use cases see it; adapters provide the system clock, tests a fixed or stepping one. */
export interface Clock {
  now(): Date;
}

// pkg/freeze: deep immutability for values shared by reference. No I/O; never imports internal/.

/** Object.freeze all the way down (already-frozen objects are not descended into). */
export { deepFreeze } from './deep-freeze.ts';

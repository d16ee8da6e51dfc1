export { seededRandom, randomInt as between } from '../../lib/testing/random.js';

import { describe, expect, it } from 'vitest';
import { sequenceRatio } from '../../src/scoring/sequence-matcher.js';

// Reference values: Python 3.11, `difflib.SequenceMatcher(None, a, b).ratio()`.
const long1 = 'x'.repeat(150) + 'ab'.repeat(30);
const long2 = 'ab'.repeat(120);
const CASES: [string, string, number][] = [
  ['tenure', 'tenure', 1.0],
  ['tenuere', 'tenure', 0.9230769230769231],
  ['monthlychargers', 'monthlycharges', 0.9655172413793104],
  ['streamingmusic', 'streamingmovies', 0.7586206896551724],
  ['lastactivity', 'lastactivitydaysago', 0.7741935483870968],
  ['abcd', 'bcda', 0.75],
  ['', '', 1.0],
  ['a', '', 0.0],
  ['customer', 'customerid', 0.8888888888888888],
  ['totalrevenue', 'totalcharges', 0.5833333333333334],
  ['qabxcd', 'abycdf', 0.6666666666666666],
  ['monthlycharges', 'tenure', 0.3],
  ['bdaaeaceaebaadd', 'baedaea', 0.45454545454545453],
  ['eaeedabaebcd', 'eaecebaee', 0.6666666666666666],
  ['bcaeaeaebdedcdedccbbbaece', 'cdceaaedbcbddaaeeccc', 0.35555555555555557],
  ['dedaacdaacedcdcadcbeadab', 'cbbdddabddecbdecdcdbbabbbbade', 0.37735849056603776],
  ['ccabdeceec', 'eeadedddd', 0.3157894736842105],
  ['ddababdb', 'ceaaaebe', 0.25],
  ['ceaabedb', 'ccecdaaddddcabaccdbeabecb', 0.42424242424242425],
  ['eaecacecbcbeeecbebbdbbedcaa', 'cdcbecdccababdbcbdeeadcaadbdbd', 0.42105263157894735],
  // b of 200+ characters: "autojunk" makes its frequent characters unmatchable (0.2667 without it)
  [long1, long2, 0.0],
  [long2, long1, 0.0],
  ['ab'.repeat(60) + 'xyz'.repeat(40), 'zyx'.repeat(30) + 'ba'.repeat(70), 0.0],
];

describe('sequenceRatio (difflib.SequenceMatcher.ratio port)', () => {
  it.each(CASES)('ratio(%j, %j) = %d', (a, b, expected) => {
    expect(sequenceRatio(a, b)).toBe(expected);
  });
});

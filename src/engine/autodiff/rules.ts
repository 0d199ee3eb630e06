/** Registers every op rule in the table. */
import './rules-elementwise.js';
import './rules-shape.js';
import './rules-nn.js';

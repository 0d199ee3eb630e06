// Placeholder page of the attention panel (replaced by the panel's implementation).
import '../common/base.css';
import { installErrorReporting, post } from '../common/host.js';

installErrorReporting('attention');
document.getElementById('app')!.textContent = 'BERT Lab attention';
post({ type: 'ready' });

// The order service's process (and the saga coordinator's): node dist/order/main.js (with ORDER_SAGA_CONFIG set).
import { main } from '../service.js';
import { startOrderService } from './service.js';

main('order', startOrderService);

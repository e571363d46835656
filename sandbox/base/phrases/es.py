"""Spanish phrasings (Chilean customers write most of Woku's)."""
# ruff: noqa: E501  (a template is one line: it reads as the sentence it writes)

OPEN = (
    "{Hola|Buenas|Buenos días}{.|, equipo.|, les cuento.}",
    "{Bueno|Mire|A ver}, {les comento|voy al grano|seré breve}.",
    "{Sinceramente|La verdad|Para ser honesto}, {aquí va mi opinión|les dejo mi comentario|esto es lo que pienso}.",
    "{Soy cliente|Somos clientes|Uso la app} {hace años|desde el año pasado|hace varios meses}.",
)
CLOSE_NEG = (
    "{Por favor|Ojalá} {lo solucionen|lo arreglen|lo revisen} {pronto|luego|cuanto antes}.",
    "{Muy|Bastante|Realmente} {decepcionado|molesta|frustrado} {con esto|la verdad|por ahora}.",
    "{Estoy pensando en|Vamos a|Quizás termine por} {cambiarme|irme a la competencia|darme de baja}.",
    "{No es|No era} lo que {esperaba|me prometieron|estoy pagando}.",
)
CLOSE_POS = (
    "{Gracias|Muchas gracias|Mil gracias}{!| a todo el equipo.|, sigan así.}",
    "{Sigan así|Que sigan así|Los felicito}{!|.}",
    "{Lo recomiendo|Los recomiendo|Ya los recomendé} a {mis amigos|mi familia|otros colegas}.",
)
CORE = {
    "billing": (
        "Me {cobraron|facturaron} {dos veces|doble} {el mismo mes|la misma compra|la suscripción}.",
        "{La|Mi|La última} {factura|boleta} {trae|tiene|incluye} un {cobro|cargo|monto} que {no reconozco|nunca autoricé|no corresponde}.",
        "{Me siguieron cobrando|Siguen cobrándome|Me cobraron igual} {después de dar de baja|aunque cancelé|tras anular} {el plan|la cuenta|la suscripción}.",
        "{La boleta|La factura} {sale|viene|llega} con {el RUT equivocado|otra razón social|datos incorrectos} {otra vez|cada mes|y nadie lo corrige}.",
        "{Todavía|Aún|Hace dos meses} {espero|estoy esperando} {el reembolso|la devolución|la nota de crédito} del {cobro doble|cargo extra|pago duplicado}.",
        "{El cargo en la tarjeta|El cobro|El débito} {llegó|salió|apareció} {antes de la fecha|por un monto distinto|sin aviso}.",
    ),
    "support_wait": (
        "{Soporte|El servicio al cliente|La mesa de ayuda} {tardó|se demoró|demoró} {cuatro días|más de una semana|siglos} en {responder|contestarme|dar una respuesta}.",
        "{Abrí|Mandé|Dejé} un {ticket|reclamo|correo} {hace una semana|hace días|el mes pasado} y {nadie responde|sigo sin respuesta|no pasa nada}.",
        "{Estuve|Me tuvieron|Esperé} {cuarenta minutos|una hora|una eternidad} {en espera|en el chat|al teléfono} {y colgué|para nada|sin que nadie atendiera}.",
        "{Cada vez|Siempre} que {escribo|llamo|reclamo} {a soporte|al call center|por el chat} {tardan días|me dejan esperando|recibo una respuesta automática}.",
        "{El chat|La atención por chat|El WhatsApp de soporte} {dice|promete} {respuesta inmediata|unos minutos|atención rápida} pero {nadie contesta|tarda horas|la espera es eterna}.",
        "{Sigo|Seguimos|Todavía estoy} esperando que {me contacten|alguien me responda|me llamen} {por el reclamo|por mi caso|de soporte}.",
    ),
    "bugs": (
        "La {app|aplicación|página} se {cae|cierra|congela} {cada vez que|apenas|cuando} {subo una foto|abro los reportes|intento pagar}.",
        "{Hay|Encontré|Me topé con} un {error|bug|problema} {en el que|donde} {el botón de guardar no hace nada|se pierden los cambios|la pantalla queda en blanco}.",
        "{Desde|Después de} la {última|nueva} actualización {se cae a cada rato|la mitad de las funciones no sirve|no sincroniza nada}.",
        "{Me aparece|Me sale|Siempre sale} un {mensaje de error|error raro|error 500} {al iniciar sesión|al enviar el formulario|cuando intento pagar}.",
        "{La exportación|El buscador|El panel} {no funciona|está roto|tira error} {otra vez|en ningún navegador|desde el martes}.",
        "{Perdí|Perdimos} {mis datos|el trabajo|la configuración} {por un error de la app|cuando se cayó la aplicación|por una falla}.",
    ),
    "onboarding": (
        "{Configurar|Crear|Activar} {la cuenta|mi cuenta|el sistema} fue {confuso|un enredo|más difícil de lo que debería}.",
        "{El tutorial|La guía de inicio|La configuración inicial} {fue clara|fue muy fácil|me tomó cinco minutos} y {quedé listo|partimos altiro|todo tuvo sentido}.",
        "No {supe|entendí|logré ver} cómo {invitar a mi equipo|crear la primera encuesta|conectar mis datos} {al principio|sin ayuda|por mi cuenta}.",
        "{El recorrido de bienvenida|Los primeros pasos|La guía} {no explica|se salta|deja fuera} {lo básico|lo importante|cómo se conecta todo}.",
        "{La puesta en marcha|Empezar|La primera semana} {fue fácil|resultó sencilla|fue muy fluida} {gracias a|con la ayuda de} {las guías|los correos de bienvenida|la ejecutiva}.",
        "{Me tomó|Nos tomó|Tardé} {semanas|demasiado tiempo|muchas horas} {aprender lo básico|dejar todo configurado|entender la configuración}.",
    ),
    "pricing": (
        "{Es|El servicio es|Me parece} {demasiado caro|carísimo|muy caro} para {lo que ofrece|una pyme|lo que usamos}.",
        "{El precio|La mensualidad|El plan} {subió|aumentó|se duplicó} {otra vez|este año|sin aviso} y {cuesta justificarlo|no nos alcanza|no me parece}.",
        "{Hay|Existen} {alternativas|competidores|herramientas} {más baratas|que hacen lo mismo|con más funciones} por {la mitad del precio|menos plata|mucho menos}.",
        "{Ojalá|Deberían} {hubiera|tener|ofrecer} un {plan más barato|plan básico|descuento} para {equipos chicos|emprendedores|pago anual}.",
        "{Pagar|Pagamos} {tanto|esta cantidad|tanta plata} {cada mes|por usuario|por licencia} {no vale la pena|es demasiado|duele}.",
        "{Buen|Correcto|Un buen} producto {pero|aunque} {el precio|el costo|la tarifa} es {muy alto|difícil de justificar|excesivo}.",
    ),
    "praise": (
        "{Excelente|Impecable} {atención|experiencia|servicio}{, muy rápidos|, de verdad|}.",
        "{Me encanta|Nos encanta|Amo} {lo fácil que es usarla|el producto|trabajar con ustedes}.",
        "{Todo|Todo siempre} {funciona perfecto|funciona muy bien|anda impecable} {para nosotros|cada vez|y me ahorra tiempo}.",
        "{El equipo|La ejecutiva|Todos} {fue|es|fueron} {muy amables|súper atentos|un siete} y {el producto es excelente|se nota|lo agradezco}.",
        "{La mejor|Por lejos la mejor} {herramienta|app|empresa} {que he usado|que hemos probado|del rubro}.",
        "{Muy feliz|Muy contenta|Súper conforme} con {el servicio|los resultados|todo} {hasta ahora|en general|cada día}.",
    ),
    "performance": (
        "{La página|La app|El panel} {es|está} {muy|súper|terriblemente} lenta {para cargar|en las mañanas|últimamente}.",
        "{Las páginas|Los reportes|Las pantallas} {tardan|se demoran} {una eternidad|muchísimo|diez segundos o más} en {cargar|abrir|aparecer}.",
        "{Se queda|La app se queda|Todo se queda} {pegada|cargando|colgada} {cuando|cada vez que} {abro un reporte|busco algo|cambio de página}.",
        "{El rendimiento|La velocidad|El tiempo de carga} {empeoró|está pésimo|se puso malísimo} {últimamente|estas semanas|desde la última versión}.",
    ),
    "delivery": (
        "{Mi|El} {pedido|despacho|paquete} {llegó|me llegó} {una semana tarde|varios días tarde|mucho después de lo prometido}.",
        "{El despacho|El envío|El courier} {tardó|se demoró} {dos semanas|demasiado|diez días} {para un pedido simple|en llegar|en entregarme}.",
        "{La caja|El paquete|Mi pedido} {llegó|vino} {dañado|abierto|aplastado} y {faltaban productos|el producto venía roto|nadie se hace responsable}.",
        "{Sigo esperando|Todavía espero|Seguimos esperando} {mi pedido|el despacho|la entrega} {que nunca llega|hace días|desde la semana pasada}.",
        "{El seguimiento|La página de seguimiento|El número de seguimiento} {dice entregado|no se actualiza hace días|no muestra nada} pero {no llegó nada|el pedido no aparece|no tengo el paquete}.",
        "{Cambiaron|Cancelaron|Se saltaron} {la fecha|el horario|la ventana} de entrega {dos veces|otra vez|sin avisar}.",
    ),
}
DETAIL = {
    "billing": (
        "{Nadie|Ninguna persona} {supo|pudo} explicarme {el cobro extra|por qué|el monto} de {la cartola|la factura|la boleta}.",
        "{Mi|Nuestro} contador {rechazó|devolvió|objetó} {la factura|la boleta} {por eso|dos veces|el mes pasado}.",
        "{Por favor|Necesito que} {devuelvan|reversen|anulen} el cobro {duplicado|extra|equivocado}.",
        "{La sección de pagos|Mi cuenta|El portal} {muestra|indica} {otro monto|dos pagos|un plan distinto}.",
    ),
    "support_wait": (
        "{Cuando|Para cuando} {por fin|finalmente} {me respondieron|contestaron|llamaron}, el problema {ya estaba resuelto|ya no importaba|seguía igual}.",
        "{Una|Cualquier} {respuesta|confirmación} {rápida|simple} {habría ayudado|bastaba|sería suficiente}.",
        "{El ticket|Mi reclamo|El caso} {sigue abierto|lo cerraron sin respuesta|anda rebotando entre áreas}.",
        "{Días|Semanas} sin {respuesta|noticias} {no es aceptable|es demasiado|es frustrante} para un cliente que paga.",
    ),
    "bugs": (
        "{Lo reporté|Mandé capturas|Avisé a soporte} {dos veces|la semana pasada|hace rato} y {sigue pasando|no lo arreglan|volvió a pasar}.",
        "{Pasa|Me pasa|El error pasa} {en el celular y en el computador|en iPhone y Android|en Chrome y Safari}.",
        "{Tuve que|Tuvimos que} {rehacer|volver a escribir|cargar de nuevo} {todo|el informe completo|una hora de trabajo}.",
        "{Reiniciar|Reinstalar|Borrar la caché} {no sirve|no lo arregla|no cambia nada}.",
    ),
    "onboarding": (
        "{Un video corto|Una guía simple|Un paso a paso} {ayudaría mucho|me habría ahorrado horas|es todo lo que necesitaba}.",
        "{La documentación|El centro de ayuda|Las guías} {explica|explicaron|cubren} {cada paso|la configuración|lo básico} {bien|clarito|muy bien}.",
        "{Invitar|Agregar} a {mi equipo|los colegas|usuarios nuevos} {fue|resultó} {confuso|complicado|fácil}.",
        "{La primera encuesta|Mi primer proyecto|El primer informe} {quedó|salió|estuvo} {lista|listo} {en una hora|el primer día|después de una semana intentando}.",
    ),
    "pricing": (
        "{Solo usamos|Usamos solo|De verdad solo ocupamos} {un par de|unas pocas|dos} funciones.",
        "{Para|Con} {un equipo de cinco|una pyme|un presupuesto chico} {el costo se nota|es demasiado|duele}.",
        "{Probablemente|Quizás|Seguramente} {bajemos de plan|cambiemos a algo más barato|cancelemos} {al renovar|el próximo año|pronto}.",
        "{El precio por usuario|La mensualidad|La anualidad} {sigue subiendo|es el problema|es muy alta}.",
    ),
    "praise": (
        "{Me ahorra|Nos ahorra} {horas|mucho tiempo|un montón de trabajo} {cada semana|al mes|todos los días}.",
        "{Todo el equipo|Mis colegas|En la oficina todos} {lo usa|lo usan|lo aman} {ahora|a diario|ya}.",
        "{Ya lo recomendé|Lo recomendamos|Se lo recomendé} a {dos amigos|otra área|un socio} {hace poco|la semana pasada|este mes}.",
        "{Diseño|Interfaz} {simple|limpia|bonita} y {todo funciona|es confiable|sin sorpresas}.",
    ),
    "performance": (
        "{Cada|Cualquier} {clic|página|reporte} {tarda|se demora} {varios|unos|cinco} segundos.",
        "{Es|Se vuelve} {imposible de usar|lentísima|mucho más lenta} {en horario peak|los lunes en la mañana|con reportes grandes}.",
        "{Mi internet|Mi conexión|La red} {está bien|es rápida|no es el problema}{, otras páginas cargan al tiro|, son sus servidores|}.",
        "{Antes era|Hace unos meses era|El año pasado era} {rápida|ágil|mucho más rápida}.",
    ),
    "delivery": (
        "{La fecha de entrega|La fecha estimada|La fecha prometida} {cambió varias veces|nunca se cumplió|se movió tres veces}.",
        "{Nadie|Ninguna persona} {me llamó|me avisó|me informó} {del atraso|que venía tarde|cuándo llegaba}.",
        "{Lo necesitaba|Lo necesitábamos|Era} {para un cumpleaños|para el fin de semana|para un evento} y {no alcanzó a llegar|llegó tarde|llegó después}.",
        "{El repartidor|El courier|El chofer} {lo dejó|lo tiró|lo entregó} {afuera bajo la lluvia|en otra casa|al conserje equivocado}.",
    ),
}
